/**
 * Type-level test, checked by `tsc --noEmit` (part of `npm test`): the
 * `Database` type derived from `schema/` types application queries. Each
 * `@ts-expect-error` fails the type check if the line ever compiles.
 */
import { Kysely, type Insertable, type Selectable } from 'kysely'
import { callLog } from '../../schema/call-log.js'
import type { Database } from '../../schema/index.js'
import { backfill } from '../../src/dsl/index.js'

declare const db: Kysely<Database>

export async function selectsTheNewColumns() {
  const row = await db.selectFrom('call_log').select(['id', 'started_at', 'duration_sec']).executeTakeFirstOrThrow()
  const startedAt: Date | null = row.started_at
  const duration: number | null = row.duration_sec
  const id: string = row.id // bigserial arrives as a string from node-postgres
  return { startedAt, duration, id }
}

export async function rejectsAMisspeltColumn() {
  // @ts-expect-error: `startedat` is not a column of call_log
  await db.selectFrom('call_log').select('startedat').execute()
  // @ts-expect-error: nor is `call_log.strated_at` in a where clause
  await db.selectFrom('call_log').selectAll().where('strated_at', 'is', null).execute()
}

export async function insertsWithDefaultsOptional() {
  // `id`, `status`, `created_at` have defaults; nullable columns may be left out.
  await db.insertInto('call_log').values({ call_sid: 'CA1' }).execute()
  // @ts-expect-error: call_sid is NOT NULL without a default
  await db.insertInto('call_log').values({ status: 'queued' }).execute()
  // @ts-expect-error: status is NOT NULL, so null is not a value for it
  await db.insertInto('call_log').values({ call_sid: 'CA2', status: null }).execute()
}

export function rowTypes(row: Selectable<Database['call_log']>, insert: Insertable<Database['call_log']>) {
  const nullable: Date | null = row.ended_at
  // @ts-expect-error: a nullable column is not a plain Date
  const notNullable: Date = row.ended_at
  const status: string | undefined = insert.status
  return { nullable, notNullable, status }
}

export function backfillsNameDeclaredColumns() {
  backfill('fills_a_declared_column', callLog, { set: { duration_sec: '0' }, where: 'duration_sec IS NULL' })
  // @ts-expect-error: a backfill sets only columns its table declares
  backfill('misspelt', callLog, { set: { duration_secs: '0' }, where: 'duration_secs IS NULL' })
  // @ts-expect-error: and says which rows still need it
  backfill('no_condition', callLog, { set: { duration_sec: '0' } })
}
