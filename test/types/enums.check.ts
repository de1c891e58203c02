/**
 * Type-level test, checked by `tsc --noEmit` (part of `npm test`): a column of
 * an enum declared with `enumType(...)` is the union of its labels in
 * `Database`, on select, insert, update and in `.default(...)`, also as an
 * array and in another PostgreSQL schema. Each `@ts-expect-error` fails the
 * type check if the line ever compiles.
 */
import { type Insertable, Kysely, type Selectable } from 'kysely'
import { c, type DatabaseOf, defineSchema, type EnumLabel, enumType, table } from '../../src/dsl/index.js'

const callStatus = enumType('call_status', ['queued', 'ringing', 'done'])
const level = enumType('level', ['low', 'high'], { schema: 'audit' })
const unusedKept = enumType('kept', ['x'])

const calls = table('calls', {
  id: c.integer().primaryKey(),
  status: c.enum(callStatus).notNull().default('queued'),
  previous: c.enum(callStatus),
  history: c.array(c.enum(callStatus)).notNull().default([]),
})
const events = table('events', { id: c.integer().primaryKey(), level: c.enum(level).notNull() }, { schema: 'audit' })

// Enums may be listed among the tables; they do not become tables in `Database`.
const schema = defineSchema(unusedKept, calls, events)
type Database = DatabaseOf<typeof schema>
declare const db: Kysely<Database>

export async function labelsAreTheValues(row: Selectable<Database['calls']>) {
  const status: 'queued' | 'ringing' | 'done' = row.status
  const previous: EnumLabel<typeof callStatus> | null = row.previous
  // node-postgres returns an array of an enum as its text, '{queued,done}'.
  const history: string = row.history
  // @ts-expect-error: not as an array
  const historyArray: EnumLabel<typeof callStatus>[] = row.history
  // @ts-expect-error: a nullable enum column is not a plain label
  const notNullable: EnumLabel<typeof callStatus> = row.previous
  await db.insertInto('calls').values({ id: 1, status: 'ringing', history: ['queued', 'done'] }).execute()
  // @ts-expect-error: 'busy' is not a label of call_status
  await db.insertInto('calls').values({ id: 2, status: 'busy' }).execute()
  // @ts-expect-error: nor in an array of it
  await db.insertInto('calls').values({ id: 3, history: ['busy'] }).execute()
  // @ts-expect-error: nor on update
  await db.updateTable('calls').set({ status: 'busy' }).execute()
  await db.selectFrom('calls').selectAll().where('status', '=', 'done').execute()
  // @ts-expect-error: nor in a where clause
  await db.selectFrom('calls').selectAll().where('status', '=', 'busy').execute()
  const insert: Insertable<Database['calls']> = { id: 4 }
  return { status, previous, history, historyArray, notNullable, insert }
}

export async function anEnumInAnotherSchema() {
  await db.insertInto('audit.events').values({ id: 1, level: 'high' }).execute()
  // @ts-expect-error: 'medium' is not a label of audit.level
  await db.insertInto('audit.events').values({ id: 2, level: 'medium' }).execute()
}

export const defaults = {
  label: c.enum(callStatus).default('done'),
  // @ts-expect-error: a default is one of the labels
  other: c.enum(callStatus).default('busy'),
  // @ts-expect-error: an array default holds labels
  otherInArray: c.array(c.enum(callStatus)).default(['busy']),
}

export function enumsAreNotTables() {
  // @ts-expect-error: `kept` is an enum, not a table
  return db.selectFrom('kept').selectAll()
}
