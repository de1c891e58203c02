import { type Kysely, sql } from 'kysely'
import { displayTableName } from '../model/model.js'
import { sqlStateOf } from '../target/database-errors.js'
import type { BackfillModel } from './definition.js'
import { BackfillError } from './errors.js'
import { updateStatement } from './batch.js'
import type { KeyedTable } from './keyset.js'

/**
 * Before any backfill writes: each one's table, primary key and columns are
 * read from the live catalog, and its statement is planned (EXPLAIN, which
 * runs nothing), so that a missing column, a table without a primary key or
 * an expression PostgreSQL rejects fails the run before its first write.
 */

/** A backfill ready to run: its declaration and the live table's primary key. */
export interface BackfillTarget extends KeyedTable {
  readonly backfill: BackfillModel
}

export async function inspectBackfill(db: Kysely<unknown>, backfill: BackfillModel): Promise<BackfillTarget> {
  const { schema, name } = backfill.table
  const shown = displayTableName(backfill.table)
  const { rows } = await sql<{ key: string[] | null; columns: string[] }>`
    SELECT (SELECT array_agg(a.attname::text ORDER BY array_position(pk.conkey, a.attnum))
              FROM pg_catalog.pg_constraint pk
              JOIN pg_catalog.pg_attribute a ON a.attrelid = pk.conrelid AND a.attnum = ANY (pk.conkey)
             WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS key,
           ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${schema} AND c.relname = ${name} AND c.relkind IN ('r', 'p')`.execute(db)
  const live = rows[0]
  if (!live) {
    throw new BackfillError(backfill, `its table ${shown} does not exist in the database`, {
      hint: 'run schema:apply first: the backfill runs after the migration that creates its table and columns',
    })
  }
  const missing = backfill.set.map((s) => s.column).filter((column) => !live.columns.includes(column))
  if (missing.length > 0) {
    throw new BackfillError(backfill, `it sets ${missing.map((column) => `${shown}.${column}`).join(', ')}, which the database does not have; nothing was written`, {
      hint: 'run schema:apply first: the migration that adds the column is not applied to this database yet, and the backfill runs after it',
    })
  }
  if (!live.key || live.key.length === 0) {
    throw new BackfillError(backfill, `${shown} has no primary key; a backfill walks its table in primary key order to resume where it stopped, and cannot walk this one`, {
      hint: `give ${shown} a primary key (declare it in schema/, plan and apply), or fill these columns by hand`,
    })
  }
  const target: BackfillTarget = { backfill, table: backfill.table, key: live.key }
  try {
    await sql`EXPLAIN ${updateStatement(target, null, null)}`.execute(db)
  } catch (error) {
    const state = sqlStateOf(error)
    if (state === null || !state.startsWith('42')) throw error
    const where = backfill.definedAt ? ` (${backfill.definedAt})` : ''
    throw new BackfillError(backfill, `PostgreSQL rejects its SQL: ${error instanceof Error ? error.message : String(error)} (SQLSTATE ${state}); nothing was written`, {
      sqlState: state,
      hint:
        state === '42703'
          ? `if schema/ declares that column, run schema:apply first (the migration that adds it is pending); otherwise fix the column name in the backfill's set or where${where}`
          : `fix the backfill's set or where${where}: the expressions and the condition are SQL on ${shown}'s columns`,
    })
  }
  return target
}

/**
 * What the inspection finds wrong with `backfill` on `db`, or `null`:
 * `schema:check` asks this of the database it replayed the migrations on, so
 * that SQL PostgreSQL rejects fails in CI rather than after a deploy.
 */
export async function inspectionProblem(db: Kysely<unknown>, backfill: BackfillModel): Promise<string | null> {
  try {
    await inspectBackfill(db, backfill)
    return null
  } catch (error) {
    if (error instanceof BackfillError) return error.detail
    throw error
  }
}
