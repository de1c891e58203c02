import { INDEX_METHODS, type IndexKeySpec, type IndexMethod } from '../dsl/indexes.js'
import type { TableDefinition } from '../dsl/table.js'
import { keyNamePart, NameChooser } from './index-names.js'
import { compareText } from './model.js'

/**
 * Indexes and unique constraints in the normalized model.
 *
 * The declared side keeps the definition as written (to render the DDL);
 * both sides carry `canonical`, PostgreSQL's own spelling of everything after
 * `USING` in `pg_get_indexdef` (method, keys with order, nulls, operator
 * class and collation, `INCLUDE`, `WITH`, `WHERE`). The live side reads it
 * from the catalog; the declared side gets it by building the declared index
 * on an empty temporary copy of its table (see `introspect/index-probe.ts`),
 * so `LOWER(x)` and `lower(x)`, `status = 'queued'` and
 * `(status = 'queued'::text)` compare equal, as PostgreSQL sees them.
 */

export type { IndexMethod }

export interface IndexKeyModel {
  readonly column: string | null
  readonly expression: string | null
  readonly descending: boolean
  /** Explicit `NULLS FIRST`/`LAST`; `null` for the default. */
  readonly nullsFirst: boolean | null
  readonly opclass: string | null
}

/** An index as declared: what the DDL is rendered from. */
export interface IndexDefinition {
  readonly method: IndexMethod
  readonly keys: readonly IndexKeyModel[]
  readonly include: readonly string[]
  readonly where: string | null
}

export interface IndexModel {
  readonly name: string
  readonly unique: boolean
  /** Backs a UNIQUE constraint of the same name (which other tables' foreign keys can reference). */
  readonly constraint: boolean
  /** As declared; `null` on the live side, which has only PostgreSQL's spelling. */
  readonly definition: IndexDefinition | null
  /** PostgreSQL's spelling from `USING` on: what the diff compares. `null` on a declared index until probed. */
  readonly canonical: string | null
  /** `pg_index.indisvalid`: false after a failed or cancelled concurrent build. Declared indexes are valid. */
  readonly valid: boolean
}

/** `USING btree (created_at DESC) WHERE (...)`: a declared definition in messages, before PostgreSQL has spelled it. */
export function writtenDefinition(definition: IndexDefinition): string {
  const keys = definition.keys.map((key) => {
    const parts = [key.column ?? `(${key.expression})`]
    if (key.opclass) parts.push(key.opclass)
    if (key.descending) parts.push('DESC')
    if (key.nullsFirst !== null) parts.push(key.nullsFirst ? 'NULLS FIRST' : 'NULLS LAST')
    return parts.join(' ')
  })
  const include = definition.include.length > 0 ? ` INCLUDE (${definition.include.join(', ')})` : ''
  const where = definition.where === null ? '' : ` WHERE (${definition.where})`
  return `USING ${definition.method} (${keys.join(', ')})${include}${where}`
}

/**
 * The indexes a table declares (its `.unique()` columns, `unique` and
 * `indexes` options), named as PostgreSQL names them when no name is given,
 * sorted by name. Problems go to `problems`, each naming the table.
 *
 * `taken` holds the relation names already used in the table's PostgreSQL
 * schema (tables, primary keys, earlier indexes): index names share that
 * namespace, so a derived name that is taken gets PostgreSQL's numbered form.
 */
export function indexesFromDefinition(
  declared: TableDefinition,
  columnNames: readonly string[],
  taken: Set<string>,
  where: () => string,
  problems: string[],
): IndexModel[] {
  const names = new NameChooser(declared.name, taken)
  const indexes: IndexModel[] = []
  const known = new Set(columnNames)
  const checkColumn = (column: unknown, what: string) => {
    if (typeof column !== 'string' || !known.has(column)) problems.push(`${where()}: ${what} names column ${String(column)}, which the table does not declare`)
  }
  const btree = (columns: readonly string[]): IndexDefinition => ({
    method: 'btree',
    keys: columns.map((column) => ({ column, expression: null, descending: false, nullsFirst: null, opclass: null })),
    include: [],
    where: null,
  })

  // Constraints first, as PostgreSQL creates them with the table; then indexes, in declaration order.
  const uniqueColumns = Object.entries(declared.columns)
    .filter(([, column]) => column?.spec?.unique === true)
    .map(([name]) => ({ columns: [name], name: null as string | null }))
  for (const spec of [...uniqueColumns, ...(declared.unique ?? [])]) {
    if (!spec || !Array.isArray(spec.columns) || spec.columns.length === 0) {
      problems.push(`${where()}: a unique constraint needs at least one column: declare it with unique('column', ...)`)
      continue
    }
    for (const column of spec.columns) checkColumn(column, 'a unique constraint')
    const name = names.take(spec.name, spec.columns, 'key', where, problems)
    indexes.push({ name, unique: true, constraint: true, definition: btree(spec.columns), canonical: null, valid: true })
  }

  for (const spec of declared.indexes ?? []) {
    if (!spec || !Array.isArray(spec.keys) || spec.keys.length === 0) {
      problems.push(`${where()}: an index needs at least one key: declare it with index('column', ...)`)
      continue
    }
    if (!INDEX_METHODS.includes(spec.method)) {
      problems.push(`${where()}: index method ${String(spec.method)} is not one of ${INDEX_METHODS.join(', ')}`)
    }
    for (const key of spec.keys) {
      if (key.column !== null) checkColumn(key.column, 'an index key')
      else if (typeof key.expression !== 'string' || key.expression.trim() === '') problems.push(`${where()}: an index expression is empty`)
    }
    for (const column of spec.include) checkColumn(column, "an index's include")
    if (spec.where !== null && spec.where.trim() === '') problems.push(`${where()}: an index's where predicate is empty`)
    const name = names.take(spec.name, spec.keys.map(keyNamePart), 'idx', where, problems)
    indexes.push({
      name,
      unique: spec.unique,
      constraint: false,
      definition: { method: spec.method, keys: spec.keys.map(keyModel), include: spec.include, where: spec.where },
      canonical: null,
      valid: true,
    })
  }
  return indexes.sort((a, b) => compareText(a.name, b.name))
}

function keyModel(key: IndexKeySpec): IndexKeyModel {
  return { column: key.column, expression: key.expression, descending: key.descending, nullsFirst: key.nullsFirst, opclass: key.opclass }
}
