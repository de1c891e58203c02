import type { ColumnType } from 'kysely'
import type { ColumnBuilder, ColumnTypes } from './column.js'
import type { CheckSpec, ForeignKeyBuilder, ForeignKeySpec } from './constraints.js'
import type { EnumDefinition } from './enums.js'
import type { IndexBuilder, IndexSpec, UniqueBuilder, UniqueSpec } from './indexes.js'

// `any`: a column of any TypeScript types; each is checked where it is used.
export type AnyColumn = ColumnBuilder<any>

export interface TableOptions<Schema extends string, ColumnName extends string> {
  /** The PostgreSQL schema (namespace); `public` when left out. */
  readonly schema?: Schema
  /** A primary key over several columns, in key order. */
  readonly primaryKey?: readonly ColumnName[]
  /** Indexes: `index(...)`, built without blocking writes on an existing table. */
  readonly indexes?: readonly IndexBuilder<ColumnName>[]
  /** Unique constraints over several columns: `unique(...)`; for one column, `.unique()` on it. */
  readonly unique?: readonly UniqueBuilder<ColumnName>[]
  /** Foreign keys over several columns (or to a table by name): `foreignKey(...).references(...)`. */
  readonly foreignKeys?: readonly ForeignKeyBuilder<ColumnName>[]
  /** Check constraints: `check('name', 'sql expression')`. */
  readonly checks?: readonly CheckSpec[]
  /**
   * A partitioned table: `RANGE (created_at)`, `LIST (region)`, `HASH (id)`, as
   * `pg_get_partkeydef` prints it. Its partitions are not part of the schema.
   */
  readonly partitionBy?: string
}

export interface TableDefinition<
  Name extends string = string,
  Schema extends string = string,
  Columns extends Record<string, AnyColumn> = Record<string, AnyColumn>,
> {
  readonly kind: 'table-definition'
  readonly name: Name
  readonly schema: Schema
  readonly columns: Columns
  readonly primaryKey: readonly string[] | null
  readonly indexes: readonly IndexSpec[]
  readonly unique: readonly UniqueSpec[]
  readonly foreignKeys: readonly ForeignKeySpec[]
  readonly checks: readonly CheckSpec[]
  readonly partitionBy: string | null
  /** `file:line` of the `table(...)` call, for error messages; worked out only when read. */
  readonly definedAt: string | null
}

export interface SchemaDefinition<Tables extends readonly TableDefinition[] = readonly TableDefinition[]> {
  readonly kind: 'schema-definition'
  readonly tables: Tables
  /** Enums given to `defineSchema` beside the tables; those columns use are found through them too. */
  readonly enums?: readonly EnumDefinition[]
}

/**
 * Declares a table.
 *
 * @example
 * export const callLog = table('call_log', {
 *   id: c.bigserial().primaryKey(),
 *   call_sid: c.text().notNull(),
 * })
 * export const events = table('events', { id: c.uuid().primaryKey() }, { schema: 'audit' })
 */
export function table<
  const Name extends string,
  const Columns extends Record<string, AnyColumn>,
  const Schema extends string = 'public',
>(
  name: Name,
  columns: Columns,
  options: TableOptions<Schema, keyof Columns & string> = {},
): TableDefinition<Name, Schema, Columns> {
  // The stack is captured now and formatted only if an error message asks where the table is:
  // formatting it for every table cost a 1,000-table schema 0.2 s.
  const callSite = new Error()
  let location: string | null | undefined
  return {
    kind: 'table-definition',
    name,
    schema: (options.schema ?? 'public') as Schema,
    columns,
    primaryKey: options.primaryKey ?? null,
    indexes: (options.indexes ?? []).map((builder) => builder.spec),
    unique: (options.unique ?? []).map((builder) => builder.spec),
    foreignKeys: (options.foreignKeys ?? []).map((builder) => builder.spec),
    checks: options.checks ?? [],
    partitionBy: options.partitionBy ?? null,
    get definedAt() {
      if (location === undefined) location = callerLocation(callSite)
      return location
    },
  }
}

/**
 * The schema: every table the application uses. Export it as `schema` from
 * `schema/index.ts`, with `export type Database = DatabaseOf<typeof schema>`.
 * Enums that columns use need not be listed; list one no column uses to keep it.
 */
export function defineSchema<const Items extends readonly (TableDefinition | EnumDefinition)[]>(
  ...items: Items
): SchemaDefinition<TablesOf<Items>> {
  const isEnum = (item: TableDefinition | EnumDefinition): item is EnumDefinition => item?.kind === 'enum-definition'
  const tables = items.filter((item) => !isEnum(item)) as unknown as TablesOf<Items>
  const enums = items.filter(isEnum)
  return enums.length === 0 ? { kind: 'schema-definition', tables } : { kind: 'schema-definition', tables, enums }
}

/** The tables among `defineSchema`'s arguments, in order. */
type TablesOf<Items extends readonly unknown[]> = Items extends readonly [infer Head, ...infer Rest]
  ? Head extends TableDefinition
    ? [Head, ...TablesOf<Rest>]
    : TablesOf<Rest>
  : Items extends readonly (infer Item)[]
    ? Extract<Item, TableDefinition>[]
    : []

/** The Kysely column type of a declared column. */
export type KyselyColumn<T extends ColumnTypes> = ColumnType<
  T['nullable'] extends true ? T['select'] | null : T['select'],
  T['readOnly'] extends true
    ? never
    : (T['nullable'] extends true ? T['insert'] | null : T['insert']) | (T['generated'] extends true ? undefined : never),
  T['readOnly'] extends true ? never : T['nullable'] extends true ? T['insert'] | null : T['insert']
>

/** The row type Kysely sees for a declared table. */
export type TableOf<T extends TableDefinition> = {
  [K in keyof T['columns']]: KyselyColumn<T['columns'][K]['__types']>
}

/** Kysely names tables outside `public` as `schema.table`. */
export type KyselyTableName<T extends TableDefinition> = T['schema'] extends 'public'
  ? T['name']
  : `${T['schema']}.${T['name']}`

/**
 * The `Database` type for `Kysely<Database>`, derived from the same
 * definitions the migrator reads.
 */
export type DatabaseOf<S extends SchemaDefinition> = {
  [T in S['tables'][number] as KyselyTableName<T>]: TableOf<T>
}

/** The first stack frame outside this folder: where `table(...)` was called. */
export function callerLocation(callSite: Error): string | null {
  const frames = (callSite.stack ?? '').split('\n').slice(1)
  for (const frame of frames) {
    const location = /\(?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?$/.exec(frame.trim())
    if (!location) continue
    const [, file = '', line] = location
    if (file.includes('/src/dsl/')) continue
    return `${file.replace(/^file:\/\//, '')}:${line}`
  }
  return null
}
