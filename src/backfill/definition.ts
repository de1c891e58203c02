import { createHash } from 'node:crypto'
import type { BackfillDefinition } from '../dsl/backfill.js'
import type { SchemaDefinition, TableDefinition } from '../dsl/table.js'
import type { TableRef } from '../diff/diff.js'
import { MigratorError } from '../errors.js'
import { displayTableName, tableKey } from '../model/model.js'

/**
 * Declared backfills, checked against the declared schema before anything
 * connects, in the shape the runner uses.
 */

export interface BackfillModel {
  readonly name: string
  readonly table: TableRef
  /** In declaration order. */
  readonly set: readonly { readonly column: string; readonly sql: string }[]
  readonly where: string
  /** Fingerprint of table, `set` and `where`: a run refuses a backfill whose definition changed since it started. */
  readonly checksum: string
  /** `file:line` of the declaration, when known. */
  readonly definedAt: string | null
}

/** Backfill names: what `--rerun` takes and the progress table keys on. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/

/**
 * Checks `definitions` (the schema module's `backfills` export) against the
 * declared `schema`: every problem is reported at once, each naming the
 * backfill and where it is declared.
 *
 * @throws MigratorError (stage `schema`) listing every problem.
 */
export function backfillModels(definitions: unknown, schema: SchemaDefinition): BackfillModel[] {
  if (definitions === undefined) return []
  if (!Array.isArray(definitions)) {
    throw new MigratorError('schema', 'the schema module exports `backfills`, but not as a list', {
      hint: 'export const backfills = [backfill(...), ...]',
    })
  }
  const problems: string[] = []
  const models: BackfillModel[] = []
  const declaredTables = new Map(schema.tables.map((table) => [tableKey(table), table]))
  const seen = new Set<string>()

  for (const [index, entry] of (definitions as unknown[]).entries()) {
    if ((entry as BackfillDefinition | undefined)?.kind !== 'backfill-definition') {
      problems.push(`backfills entry ${index + 1} is not a backfill: declare it with backfill(...)`)
      continue
    }
    const definition = entry as BackfillDefinition
    const { name, table } = definition
    const at = () => `backfill ${typeof name === 'string' ? name : `#${index + 1}`}${definition.definedAt ? ` (${definition.definedAt})` : ''}`
    const before = problems.length
    if (typeof name !== 'string' || !NAME.test(name)) {
      problems.push(`${at()}: the name must be 1 to 100 letters, digits, "_", "." or "-", starting with a letter, digit or "_"`)
    } else if (seen.has(name)) {
      problems.push(`${at()}: another backfill has the same name`)
    }
    seen.add(name)
    const declared = declaredTables.get(tableKey(table))
    if (!declared) {
      problems.push(`${at()}: its table ${displayTableName(table)} is not in defineSchema(...)`)
      continue
    }
    problems.push(...setProblems(definition, declared).map((problem) => `${at()}: ${problem}`))
    if (typeof definition.where !== 'string' || definition.where.trim() === '') {
      problems.push(`${at()}: \`where\` must be the SQL condition a row meets while it still needs the backfill`)
    } else if (definition.where.includes('\0')) {
      problems.push(`${at()}: \`where\` contains a NUL character`)
    }
    if (problems.length > before) continue

    const set = Object.entries(definition.set).map(([column, expression]) => ({ column, sql: expression }))
    const ref = { schema: declared.schema, name: declared.name }
    models.push({ name, table: ref, set, where: definition.where, checksum: checksumOf(ref, set, definition.where), definedAt: definition.definedAt })
  }

  if (problems.length > 0) {
    throw new MigratorError('schema', `the declared backfills are invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the backfill(...) declarations in schema/ and run the command again',
    })
  }
  return models
}

function setProblems(definition: BackfillDefinition, table: TableDefinition): string[] {
  const entries = Object.entries(definition.set ?? {})
  if (entries.length === 0) return ['`set` names no column to fill']
  const keyColumns = primaryKeyOf(table)
  const problems: string[] = []
  for (const [column, expression] of entries) {
    if (!(column in table.columns)) {
      problems.push(`sets ${column}, which ${displayTableName(table)} does not declare`)
    } else if (keyColumns.includes(column)) {
      problems.push(`sets ${column}, a primary key column: the backfill walks the table by its primary key, which must not move`)
    }
    if (typeof expression !== 'string' || expression.trim() === '') {
      problems.push(`the expression for ${column} must be SQL text`)
    } else if (expression.includes('\0')) {
      problems.push(`the expression for ${column} contains a NUL character`)
    }
  }
  return problems
}

function primaryKeyOf(table: TableDefinition): readonly string[] {
  if (table.primaryKey) return table.primaryKey
  return Object.entries(table.columns)
    .filter(([, column]) => column?.spec?.primaryKey)
    .map(([name]) => name)
}

function checksumOf(table: TableRef, set: BackfillModel['set'], where: string): string {
  const canonical = { table: [table.schema, table.name], set: set.map((s) => [s.column, s.sql]), where }
  return `sha256:${createHash('sha256').update(JSON.stringify(canonical)).digest('hex')}`
}
