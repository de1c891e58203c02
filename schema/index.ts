import { defineSchema, type DatabaseOf } from '../src/dsl/index.js'
import { callLog, callLogDurationSec } from './call-log.js'

/** The single source of truth: what `schema:plan` migrates to and `schema:verify` checks. */
export const schema = defineSchema(callLog)

/** Pass to Kysely: `new Kysely<Database>(...)`. */
export type Database = DatabaseOf<typeof schema>

/** What `schema:backfill` fills after apply, in this order. */
export const backfills = [callLogDurationSec]
