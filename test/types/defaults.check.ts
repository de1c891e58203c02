/**
 * Type-level test, checked by `tsc --noEmit` (part of `npm test`): `.default(...)`
 * accepts what the column's insert type accepts, and nothing it could not
 * render; generated columns are read-only in `Database`. Each
 * `@ts-expect-error` fails the type check if the line ever compiles.
 */
import { type Insertable, Kysely, type Selectable, type Updateable } from 'kysely'
import { c, type DatabaseOf, defineSchema, table } from '../../src/dsl/index.js'

export const accepted = {
  numericString: c.numeric(12, 2).default('0.0'),
  numericNumber: c.numeric(12, 2).default(0),
  bigintString: c.bigint().default('-9999999999'),
  bigintBigint: c.bigint().default(12n),
  integer: c.integer().default(5),
  double: c.doublePrecision().default(0.25),
  textArray: c.array(c.text()).default([]),
  intArray: c.array(c.integer()).default([1, 2]),
  nested: c.array(c.array(c.integer())).default([[1], [2]]),
  jsonbValue: c.jsonb().default({ a: [1, 'x'] }),
  jsonbText: c.jsonb().default('{}'),
  date: c.date().default(new Date(0)),
  timestampText: c.timestamptz().default('2020-01-01T00:00:00Z'),
  bytea: c.bytea().default(Buffer.from('x')),
  enumLike: c.type<'a' | 'b'>('mood').default('a'),
  untypedCatalogType: c.type('citext').default('x'),
}

export const refused = {
  // @ts-expect-error: an integer column's insert type is number
  integerString: c.integer().default('5'),
  // @ts-expect-error: a double column's insert type is number
  doubleString: c.doublePrecision().default('0.25'),
  // @ts-expect-error: a text[] default is an array of strings, not JSON text
  arrayAsText: c.array(c.text()).default('[]'),
  // @ts-expect-error: numbers are not text[] elements
  arrayOfNumbers: c.array(c.text()).default([1]),
  // @ts-expect-error: an object is not a text value
  objectOnText: c.text().default({}),
  // @ts-expect-error: a boolean column takes booleans
  booleanString: c.boolean().default('true'),
  // @ts-expect-error: an enum's labels are its values
  enumOther: c.type<'a' | 'b'>('mood').default('c'),
}

const orders = table('orders', {
  id: c.integer().primaryKey(),
  price: c.numeric(12, 2).notNull(),
  qty: c.integer().notNull(),
  total: c.numeric().generatedAlwaysAs('price * qty'),
})
type Database = DatabaseOf<ReturnType<typeof defineSchema<[typeof orders]>>>
declare const db: Kysely<Database>

export async function generatedColumnsAreReadOnly(row: Selectable<Database['orders']>) {
  const total: string | null = row.total
  await db.insertInto('orders').values({ id: 1, price: '1.00', qty: 2 }).execute()
  // @ts-expect-error: a generated column cannot be written on insert
  await db.insertInto('orders').values({ id: 2, price: '1.00', qty: 2, total: '2.00' }).execute()
  // @ts-expect-error: nor on update
  await db.updateTable('orders').set({ total: '3.00' }).execute()
  const insert: Insertable<Database['orders']> = { id: 3, price: 1, qty: 1 }
  const update: Updateable<Database['orders']> = { qty: 3 }
  return { total, insert, update }
}
