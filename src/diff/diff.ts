import {
  type ColumnDefault,
  type ColumnModel,
  type GeneratedColumn,
  type IdentityKind,
  type Partitioning,
  sameDefault,
  type SchemaModel,
  type TableModel,
  tableKey,
} from '../model/model.js'
import { type ConstraintChange, diffConstraints } from './constraints.js'
import { diffEnums, type EnumChange } from './enums.js'
import { diffIndexes, type IndexChange } from './indexes.js'

/**
 * The diff: what must change for the live schema to become the declared one,
 * as a small vocabulary of typed changes. It decides nothing about safety;
 * the plan does.
 */

export interface TableRef {
  readonly schema: string
  readonly name: string
}

export type Change =
  | { readonly kind: 'create-schema'; readonly schema: string }
  | { readonly kind: 'create-table'; readonly table: TableModel }
  | { readonly kind: 'add-column'; readonly table: TableRef; readonly column: ColumnModel }
  | {
      readonly kind: 'alter-column-type'
      readonly table: TableRef
      readonly column: string
      readonly from: string
      readonly to: string
      /** The live default, which PostgreSQL must convert too (and cannot, to or from an enum). */
      readonly liveDefault: ColumnDefault | null
    }
  | {
      readonly kind: 'alter-column-nullability'
      readonly table: TableRef
      readonly column: string
      readonly nullable: boolean
    }
  | {
      readonly kind: 'alter-column-default'
      readonly table: TableRef
      readonly column: string
      /** The column's type, which both defaults are read as. */
      readonly type: string
      readonly from: ColumnDefault | null
      readonly to: ColumnDefault | null
    }
  | {
      readonly kind: 'alter-column-generated'
      readonly table: TableRef
      readonly column: string
      readonly from: GeneratedColumn | null
      readonly to: GeneratedColumn | null
    }
  | {
      readonly kind: 'alter-column-identity'
      readonly table: TableRef
      readonly column: string
      readonly from: IdentityKind | null
      readonly to: IdentityKind | null
    }
  | {
      readonly kind: 'alter-partitioning'
      readonly table: TableRef
      readonly from: Partitioning | null
      readonly to: Partitioning | null
    }
  | {
      readonly kind: 'alter-primary-key'
      readonly table: TableRef
      readonly from: readonly string[]
      readonly to: readonly string[]
    }
  | { readonly kind: 'drop-column'; readonly table: TableRef; readonly column: ColumnModel }
  | { readonly kind: 'drop-table'; readonly table: TableModel }
  | IndexChange
  | ConstraintChange
  | EnumChange

export type ChangeKind = Change['kind']

/**
 * Changes that turn `live` into `declared`, in the order they must run:
 * schemas, enums (which columns may use), tables, columns, then alterations,
 * then indexes (which may use new columns), then foreign keys and checks
 * (which may need new columns and unique constraints), then drops
 * (constraints first, then indexes, enums last). Tables and enums are
 * compared only within `declared.namespaces`.
 */
export function diffSchemas(declared: SchemaModel, live: SchemaModel): Change[] {
  const changes: Change[] = []
  for (const schema of declared.namespaces) {
    if (!live.namespaces.includes(schema)) changes.push({ kind: 'create-schema', schema })
  }
  const enums = diffEnums(declared, live)
  changes.push(...enums.changes)

  const liveTables = new Map(live.tables.map((t) => [tableKey(t), t]))
  const declaredKeys = new Set(declared.tables.map(tableKey))
  const alterations: Change[] = []
  const indexChanges: Change[] = []
  const constraintChanges: Change[] = []
  const constraintDrops: Change[] = []
  const drops: Change[] = []

  for (const table of declared.tables) {
    const existing = liveTables.get(tableKey(table))
    const ref = { schema: table.schema, name: table.name }
    if (!existing) {
      changes.push({ kind: 'create-table', table })
      for (const index of table.indexes) indexChanges.push({ kind: 'create-index', table: ref, index, newTable: true })
      constraintChanges.push(...diffConstraints(ref, null, table).changes)
      continue
    }
    // A partitioned table is never taken for a plain one, nor the other way round.
    if ((existing.partitionBy?.canonical ?? null) !== (table.partitionBy?.canonical ?? null)) {
      alterations.push({ kind: 'alter-partitioning', table: ref, from: existing.partitionBy, to: table.partitionBy })
    }
    const liveColumns = new Map(existing.columns.map((c) => [c.name, c]))
    for (const column of table.columns) {
      const current = liveColumns.get(column.name)
      if (current) alterations.push(...diffColumn(ref, current, column))
      else changes.push({ kind: 'add-column', table: ref, column })
    }
    if (!sameList(existing.primaryKey, table.primaryKey)) {
      alterations.push({ kind: 'alter-primary-key', table: ref, from: existing.primaryKey, to: table.primaryKey })
    }
    const indexes = diffIndexes(ref, existing.indexes, table.indexes)
    indexChanges.push(...indexes.changes)
    drops.push(...indexes.drops)
    const constraints = diffConstraints(ref, existing, table)
    constraintChanges.push(...constraints.changes)
    constraintDrops.push(...constraints.drops)
    const declaredColumns = new Set(table.columns.map((c) => c.name))
    for (const column of existing.columns) {
      if (!declaredColumns.has(column.name)) drops.push({ kind: 'drop-column', table: ref, column })
    }
  }

  const dropped = live.tables.filter((table) => declared.namespaces.includes(table.schema) && !declaredKeys.has(tableKey(table)))
  for (const table of referencingFirst(dropped)) drops.push({ kind: 'drop-table', table })
  return [...changes, ...alterations, ...indexChanges, ...constraintChanges, ...constraintDrops, ...drops, ...enums.drops]
}

/**
 * Tables to drop, each after every other one of them whose foreign keys
 * reference it: PostgreSQL refuses to drop a table another one references.
 * Tables that reference each other in a cycle keep their order.
 */
function referencingFirst(tables: readonly TableModel[]): TableModel[] {
  const referencedBy = (table: TableModel, others: readonly TableModel[]) =>
    others.some((other) => other !== table && other.constraints.some((c) => c.kind === 'foreign-key' && tableKey(c.references) === tableKey(table)))
  const ordered: TableModel[] = []
  let left = [...tables]
  while (left.length > 0) {
    const free = left.filter((table) => !referencedBy(table, left))
    const next = free.length > 0 ? free : left
    ordered.push(...next)
    left = left.filter((table) => !next.includes(table))
  }
  return ordered
}

function diffColumn(table: TableRef, live: ColumnModel, declared: ColumnModel): Change[] {
  const column = declared.name
  const changes: Change[] = []
  if (live.type !== declared.type) {
    changes.push({ kind: 'alter-column-type', table, column, from: live.type, to: declared.type, liveDefault: live.default })
  }
  if (live.nullable !== declared.nullable) {
    changes.push({ kind: 'alter-column-nullability', table, column, nullable: declared.nullable })
  }
  if (live.identity !== declared.identity) {
    changes.push({ kind: 'alter-column-identity', table, column, from: live.identity, to: declared.identity })
  }
  if (!sameGenerated(live.generated, declared.generated)) {
    changes.push({ kind: 'alter-column-generated', table, column, from: live.generated, to: declared.generated })
  } else if (declared.generated === null && !sameDefault(live.default, declared.default)) {
    // (A generated column has no default; while generation differs, the default is moot.)
    changes.push({ kind: 'alter-column-default', table, column, type: declared.type, from: live.default, to: declared.default })
  }
  return changes
}

function sameGenerated(live: GeneratedColumn | null, declared: GeneratedColumn | null): boolean {
  if (live === null || declared === null) return live === declared
  return live.kind === declared.kind && live.canonical === declared.canonical
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}
