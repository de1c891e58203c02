/**
 * The normalized schema model.
 *
 * Both sides of a diff are built into this one shape: the declared schema
 * (`schema/`, see `from-definition.ts`) and the live database (see
 * `introspect/`). Every field holds a canonical spelling, so two equal schemas
 * produce deeply equal models and the diff never reports a difference that
 * PostgreSQL would not see.
 */

import type { ConstraintModel } from './constraint-model.js'
import type { EnumModel } from './enum-model.js'
import type { IndexModel } from './index-model.js'

/** A column default, kept both as written and in canonical form. */
export interface ColumnDefault {
  /** The expression as declared or as PostgreSQL renders it; used in SQL and messages. */
  readonly sql: string
  /** Canonical form (see `normalizeDefault`); what the diff compares (with {@link sameDefault}). */
  readonly canonical: string
  /** The sequence a `nextval(...)` default draws from, when it is one. */
  readonly sequence?: SequenceRef
}

/** A sequence as a default names it; `schema` is `null` when the name is unqualified (found through `search_path`). */
export interface SequenceRef {
  readonly schema: string | null
  readonly name: string
  /** Live only: the sequence is owned by the column (`serial`, or `ALTER SEQUENCE ... OWNED BY`). */
  readonly ownedByColumn?: boolean
}

/** `GENERATED ALWAYS AS (expression) STORED` (or `VIRTUAL`, PostgreSQL 18's default, read from live databases). */
export interface GeneratedColumn {
  readonly kind: 'stored' | 'virtual'
  /** The expression as declared or as PostgreSQL renders it. */
  readonly sql: string
  /** Case and white space folded outside quotes; spellings that still differ are settled by the server. */
  readonly canonical: string
}

/** `PARTITION BY ...` of a partitioned table, e.g. `RANGE (created_at)`. */
export interface Partitioning {
  /** As declared, or as `pg_get_partkeydef` prints it. */
  readonly sql: string
  readonly canonical: string
}

export type IdentityKind = 'always' | 'by-default'

export interface ColumnModel {
  readonly name: string
  /** Canonical type, spelled as PostgreSQL's `format_type` spells it, e.g. `character varying(255)`. */
  readonly type: string
  readonly nullable: boolean
  readonly default: ColumnDefault | null
  readonly identity: IdentityKind | null
  readonly generated: GeneratedColumn | null
  /**
   * A type outside the built-in set (`c.type('mood')`: an enum, a domain, an extension type), spelt
   * as declared until the target's catalog resolves it (`introspect/catalog-references.ts`).
   */
  readonly catalogType: boolean
}

export interface TableModel {
  readonly schema: string
  readonly name: string
  /** In declaration (attnum) order. */
  readonly columns: readonly ColumnModel[]
  /** Primary key column names in key order; empty when the table has none. */
  readonly primaryKey: readonly string[]
  /** Indexes and unique constraints, sorted by name; the primary key's index is not among them. */
  readonly indexes: readonly IndexModel[]
  /** Foreign keys and check constraints, sorted by name (primary keys and unique constraints are elsewhere). */
  readonly constraints: readonly ConstraintModel[]
  /** `null` for a plain table. */
  readonly partitionBy: Partitioning | null
}

export interface SchemaModel {
  /** The PostgreSQL schemas (namespaces) this model speaks for, sorted. */
  readonly namespaces: readonly string[]
  /** Sorted by schema, then name. */
  readonly tables: readonly TableModel[]
  /** Enum types, sorted by schema, then name (`enum-model.ts`). */
  readonly enums: readonly EnumModel[]
}

/** How much a schema declares: what verify, check and the post-apply assertion report having checked. */
export function sizeOf(model: SchemaModel): { readonly tables: number; readonly columns: number; readonly indexes: number } {
  return {
    tables: model.tables.length,
    columns: model.tables.reduce((n, t) => n + t.columns.length, 0),
    indexes: model.tables.reduce((n, t) => n + t.indexes.length, 0),
  }
}

/** The marker a declared `serial` column's default canonicalizes to: the sequence's name is PostgreSQL's choice. */
export const SEQUENCE_DEFAULT = 'nextval(<owned sequence>)'

/**
 * Whether a live default gives what the declared one asks for: the same
 * canonical text, or, for a declared `serial`, any sequence the column owns.
 */
export function sameDefault(live: ColumnDefault | null, declared: ColumnDefault | null): boolean {
  if (live === null || declared === null) return live === declared
  if (declared.canonical === SEQUENCE_DEFAULT) return live.sequence?.ownedByColumn === true
  return live.canonical === declared.canonical
}

/** `public.call_log` style key; unique within a model. */
export function tableKey(table: { readonly schema: string; readonly name: string }): string {
  return `${table.schema}.${table.name}`
}

/** How a table is named to people: bare in `public`, qualified elsewhere. */
export function displayTableName(table: { readonly schema: string; readonly name: string }): string {
  return table.schema === 'public' ? table.name : tableKey(table)
}

export function sortTables<T extends { readonly schema: string; readonly name: string }>(tables: readonly T[]): T[] {
  return [...tables].sort((a, b) => compareText(tableKey(a), tableKey(b)))
}

/** Code-point order, independent of the process locale, so output is deterministic. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
