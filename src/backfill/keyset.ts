import { type RawBuilder, sql } from 'kysely'
import type { TableRef } from '../diff/diff.js'

/**
 * Walking a table by its primary key (keyset pagination): the SQL pieces for
 * "rows after this key" and "rows up to that key", for single and composite
 * keys alike, as row comparisons PostgreSQL answers from the key's index.
 *
 * Key values travel as text, as PostgreSQL prints them (`CAST(k AS text)`),
 * and go back as untyped parameters, which PostgreSQL reads with the key
 * column's own type: any key type round-trips without the tool knowing it.
 */

/** Primary key values of one row, as text, in key column order. */
export type Key = readonly string[]

export interface KeyedTable {
  readonly table: TableRef
  /** Primary key columns in key order. */
  readonly key: readonly string[]
}

/** The table itself, schema-qualified. */
export function tableSql({ table }: KeyedTable): RawBuilder<unknown> {
  return sql`${sql.id(table.schema, table.name)}`
}

/** `(k1, k2)`, optionally qualified by a relation alias. */
export function keyRow({ key }: KeyedTable, alias?: string): RawBuilder<unknown> {
  return sql`(${sql.join(key.map((column) => (alias ? sql.id(alias, column) : sql.id(column))))})`
}

/** `k1, k2` for a select or ORDER BY list; `direction` applies to every column. */
export function keyList({ key }: KeyedTable, direction?: 'DESC'): RawBuilder<unknown> {
  return sql.join(key.map((column) => (direction ? sql`${sql.id(column)} DESC` : sql.id(column))))
}

/** `ARRAY[CAST(k1 AS text), ...]`: a key as text, the form `Key` holds. */
export function keyAsText({ key }: KeyedTable, alias?: string): RawBuilder<unknown> {
  return sql`ARRAY[${sql.join(key.map((column) => sql`CAST(${alias ? sql.id(alias, column) : sql.id(column)} AS text)`))}]`
}

/** A key as parameters: `($1, $2)`. */
export function keyValues(key: Key): RawBuilder<unknown> {
  return sql`(${sql.join(key.map((value) => sql`${value}`))})`
}

/** `(k) > (after) AND (k) <= (upTo)`; either bound may be absent. */
export function keyRange(keyed: KeyedTable, after: Key | null, upTo: Key | null): RawBuilder<unknown> {
  const lower = after ? sql`${keyRow(keyed)} > ${keyValues(after)}` : sql`true`
  const upper = upTo ? sql`${keyRow(keyed)} <= ${keyValues(upTo)}` : sql`true`
  return sql`${lower} AND ${upper}`
}

/**
 * A piece of SQL from the backfill's declaration, used verbatim like a
 * declared default. Parenthesized on lines of its own, so that it stays one
 * operand and a trailing `--` comment in it cannot swallow what follows.
 */
export function declaredSql(text: string): RawBuilder<unknown> {
  return sql`(\n${sql.raw(text)}\n)`
}

/** `id=42`, `(org_id, id)=(7, 42)`: a key as people read it. */
export function describeKey(keyed: Pick<KeyedTable, 'key'>, key: Key): string {
  return keyed.key.length === 1 ? `${keyed.key[0]}=${key[0]}` : `(${keyed.key.join(', ')})=(${key.join(', ')})`
}
