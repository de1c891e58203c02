import { type Kysely, sql } from 'kysely'
import type { GeneratedMigration, MigrationStep } from '../migrations/migration.js'
import { notNullCheckName } from '../model/constraint-model.js'
import { messageOf, StepFailedError } from './apply.js'
import { targetOf } from './step-targets.js'

/**
 * What to tell the user when `VALIDATE CONSTRAINT` finds existing rows that
 * break the constraint: which constraint, how many rows, and how to fix them.
 *
 * The constraint stays as the earlier step added it, `NOT VALID` (checking
 * new rows, not old ones), and that step is recorded as done: once the rows
 * are fixed, `schema:apply` continues at the validation.
 */
export async function explainValidationFailure(conn: Kysely<unknown>, migration: GeneratedMigration, steps: readonly number[], error: unknown): Promise<unknown> {
  if (!(error instanceof StepFailedError) || steps.length !== 1) return error
  const target = targetOf(migration.steps[steps[0] as number] as MigrationStep)
  if (target?.kind !== 'validates-constraint' || (error.sqlState !== '23514' && error.sqlState !== '23503')) return error
  const { schema, name: table } = target.table
  const shown = schema === 'public' ? table : `${schema}.${table}`
  const cause = error.cause
  const retry = 'then run schema:apply again: it continues at this step'

  if (error.sqlState === '23503') {
    const detail = (cause as { detail?: unknown } | undefined)?.detail
    return new StepFailedError(
      migration.name,
      error.step,
      error.sqlState,
      error.attempts,
      new Error(`${messageOf(cause)}${typeof detail === 'string' ? ` (${detail})` : ''}`),
      `rows of ${shown} reference keys that do not exist: add the missing rows to the referenced table, or delete the referencing rows or set their columns to NULL, ${retry}. Meanwhile the foreign key ${target.constraint} stays NOT VALID: it checks new rows, not the old ones.`,
    )
  }

  const violating = await countViolations(conn, target.table, target.constraint).catch(() => null)
  const column = violating?.column
  if (column !== undefined && column !== null && target.constraint === notNullCheckName(table, column)) {
    const count = violating?.rows ?? 'some'
    return new StepFailedError(
      migration.name,
      error.step,
      error.sqlState,
      error.attempts,
      new Error(`column ${column} of ${shown} cannot be made NOT NULL: ${count} ${count === 1 ? 'row holds' : 'rows hold'} NULL in it`),
      `fill those rows first: declare a backfill for ${shown}.${column} in schema/ and run schema:backfill (or UPDATE them), ${retry}. Meanwhile the check ${target.constraint} (NOT VALID) keeps new rows from holding NULL.`,
    )
  }
  const count = violating === null ? '' : `: ${violating.rows} ${violating.rows === 1 ? 'row breaks' : 'rows break'} it`
  return new StepFailedError(
    migration.name,
    error.step,
    error.sqlState,
    error.attempts,
    new Error(`${messageOf(cause)}${count}`),
    `fix or delete the rows of ${shown} that break check ${target.constraint}${violating ? ` (SELECT * FROM ${queryName(target.table)} WHERE NOT (${violating.expression}))` : ''}, ${retry}. Meanwhile the check stays NOT VALID: it checks new rows, not the old ones.`,
  )
}

/** The rows that break check `name` (its expression false, not NULL), and its column when it names one. */
async function countViolations(
  conn: Kysely<unknown>,
  table: { readonly schema: string; readonly name: string },
  name: string,
): Promise<{ rows: number; expression: string; column: string | null }> {
  const { rows } = await sql<{ expression: string; column: string | null }>`
    SELECT pg_catalog.pg_get_expr(k.conbin, k.conrelid) AS expression,
           CASE WHEN cardinality(k.conkey) = 1 THEN (SELECT a.attname::text FROM pg_catalog.pg_attribute a
                                                      WHERE a.attrelid = k.conrelid AND a.attnum = k.conkey[1]) END AS column
      FROM pg_catalog.pg_constraint k
     WHERE k.conrelid = ${`${quote(table.schema)}.${quote(table.name)}`}::regclass AND k.conname = ${name}`.execute(conn)
  const found = rows[0]
  if (!found) throw new Error(`constraint ${name} not found`)
  // The expression is PostgreSQL's own rendering of the check, read from its catalog.
  const { rows: counted } = await sql<{ n: string }>`
    SELECT count(*)::text AS n FROM ${sql.id(table.schema, table.name)} WHERE NOT (${sql.raw(found.expression)})`.execute(conn)
  return { rows: Number(counted[0]?.n), expression: found.expression, column: found.column }
}

/** The table as a query the user copies names it: quoted (it may be a keyword, or hold capitals, spaces, quotes), qualified outside `public`. */
function queryName(table: { readonly schema: string; readonly name: string }): string {
  return table.schema === 'public' ? quote(table.name) : `${quote(table.schema)}.${quote(table.name)}`
}

/** A name as `regclass` text reads it. */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
