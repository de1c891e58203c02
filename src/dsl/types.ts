import { ColumnBuilder, type ColumnTypes } from './column.js'
import { enumSpelling } from '../model/enum-model.js'
import type { EnumDefinition } from './enums.js'

/**
 * The column constructors `schema/` uses, one per PostgreSQL type.
 *
 * Each one fixes the column's SQL type and the TypeScript types an
 * application sees through `Kysely<Database>`, following what node-postgres
 * returns by default: `bigint` and `numeric` arrive as strings (they do not
 * fit a JS number), `date` and `timestamp` as `Date`, `json` as parsed values.
 *
 * @example
 * import { c, table } from '../src/dsl/index.js'
 * export const callLog = table('call_log', {
 *   id: c.bigserial().primaryKey(),
 *   status: c.text().notNull().default('queued'),
 * })
 */

/** Parsed JSON as node-postgres returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** An `interval` as node-postgres returns it (the `postgres-interval` object). */
export interface IntervalValue {
  years?: number
  months?: number
  days?: number
  hours?: number
  minutes?: number
  seconds?: number
  milliseconds?: number
  toPostgres(): string
}

type Nullable<S, I = S, D = I> = { select: S; insert: I; defaultValue: D; nullable: true; generated: false; readOnly: false }
type Serial<S, I = S> = { select: S; insert: I; defaultValue: never; nullable: false; generated: true; readOnly: false }

/**
 * node-postgres parses arrays only of the built-in types: an array of an
 * enum (whose type oid each database picks) arrives as its literal text,
 * `'{queued,"in progress"}'`. Inserts still take a JavaScript array.
 */
type ArrivesAsTextInArrays = { readonly arrayArrivesAsText: true }
type ArraySelect<T extends ColumnTypes> = T extends ArrivesAsTextInArrays ? string : T['select'][]

type Int8Input = string | number | bigint
type TimestampInput = Date | string

function column<T extends ColumnTypes>(type: string): ColumnBuilder<T> {
  return new ColumnBuilder<T>({ type, nullable: true, default: null, identity: null, generated: null, primaryKey: false })
}

function withPrecision(name: string, precision: number | undefined, suffix = ''): string {
  const head = precision === undefined ? name : `${name}(${precision})`
  return suffix ? `${head} ${suffix}` : head
}

export const c = {
  smallint: () => column<Nullable<number>>('smallint'),
  integer: () => column<Nullable<number>>('integer'),
  bigint: () => column<Nullable<string, Int8Input>>('bigint'),
  /** `serial`: `integer` filled from a sequence the column owns. */
  serial: () => new ColumnBuilder<Serial<number>>(serialSpec('serial')),
  smallserial: () => new ColumnBuilder<Serial<number>>(serialSpec('smallserial')),
  /** `bigserial`: `bigint` filled from a sequence the column owns. */
  bigserial: () => new ColumnBuilder<Serial<string, Int8Input>>(serialSpec('bigserial')),
  numeric: (precision?: number, scale?: number) =>
    column<Nullable<string, string | number>>(
      precision === undefined ? 'numeric' : `numeric(${precision},${scale ?? 0})`,
    ),
  real: () => column<Nullable<number>>('real'),
  doublePrecision: () => column<Nullable<number>>('double precision'),
  text: () => column<Nullable<string>>('text'),
  varchar: (length?: number) => column<Nullable<string>>(withPrecision('varchar', length)),
  char: (length?: number) => column<Nullable<string>>(withPrecision('char', length)),
  boolean: () => column<Nullable<boolean>>('boolean'),
  date: () => column<Nullable<Date, TimestampInput>>('date'),
  time: (precision?: number) => column<Nullable<string>>(withPrecision('time', precision, 'without time zone')),
  timetz: (precision?: number) => column<Nullable<string>>(withPrecision('time', precision, 'with time zone')),
  timestamp: (precision?: number) =>
    column<Nullable<Date, TimestampInput>>(withPrecision('timestamp', precision, 'without time zone')),
  timestamptz: (precision?: number) =>
    column<Nullable<Date, TimestampInput>>(withPrecision('timestamp', precision, 'with time zone')),
  interval: (precision?: number) => column<Nullable<IntervalValue, string | IntervalValue>>(withPrecision('interval', precision)),
  uuid: () => column<Nullable<string>>('uuid'),
  /**
   * `json`: selects return the parsed value; inserts take JSON text, because
   * node-postgres sends a JS array as a PostgreSQL array, not as JSON.
   * `.default(...)` takes the value itself, or JSON text.
   */
  json: <T extends JsonValue = JsonValue>() => column<Nullable<T, string, T | string>>('json'),
  jsonb: <T extends JsonValue = JsonValue>() => column<Nullable<T, string, T | string>>('jsonb'),
  bytea: () => column<Nullable<Buffer>>('bytea'),
  inet: () => column<Nullable<string>>('inet'),
  cidr: () => column<Nullable<string>>('cidr'),
  macaddr: () => column<Nullable<string>>('macaddr'),
  /** An array of another column type: `c.array(c.text())` is `text[]`; its default is a JavaScript array. */
  array: <T extends ColumnTypes>(element: ColumnBuilder<T>) =>
    withEnum(column<Nullable<ArraySelect<T>, T['insert'][], readonly T['defaultValue'][]>>(`${element.spec.type}[]`), element.spec.enum),
  /**
   * A column of an enum declared with `enumType(...)`: its values are the
   * enum's labels, in `Database` too. The migrator creates the enum first.
   *
   * An array of one (`c.array(c.enum(callStatus))`) takes an array of labels
   * on insert, and selects as the array's text (`'{queued,done}'`), which is
   * what node-postgres returns for it.
   *
   * @example
   * status: c.enum(callStatus).notNull().default('queued')
   * history: c.array(c.enum(callStatus)).notNull().default([])
   */
  enum: <const E extends EnumDefinition>(definition: E) =>
    withEnum(column<Nullable<E['labels'][number]> & ArrivesAsTextInArrays>(enumSpelling(definition)), definition),
  /**
   * Any type the target database has, by its SQL spelling, typed by hand:
   * an enum, a domain, `tsvector`, an extension's type (`citext`, PostGIS
   * `geometry(Point,4326)`), or a built-in spelling. Built-in spellings are
   * checked when the schema loads; other names when plan or verify reads
   * the target's catalog, which names any type it lacks and the extension
   * that provides it. node-postgres returns the values of types it does not
   * know as strings, hence the default `string`.
   *
   * @example
   * code: c.type('character(2)')
   * mood: c.type<'sad' | 'ok' | 'happy'>('mood').notNull().default('ok')
   * email: c.type('citext')
   */
  type: <S = string, I = S>(sqlType: string) => column<Nullable<S, I>>(sqlType),
}

function withEnum<T extends ColumnTypes>(builder: ColumnBuilder<T>, definition: EnumDefinition | undefined): ColumnBuilder<T> {
  return definition === undefined ? builder : new ColumnBuilder<T>({ ...builder.spec, enum: definition })
}

function serialSpec(type: string) {
  return { type, nullable: false, default: null, identity: null, generated: null, primaryKey: false } as const
}
