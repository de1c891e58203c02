import { defineSchema, type DatabaseOf } from '../src/dsl/index.js'
import { callLog } from './call-log.js'

/** The single source of truth: what `schema:plan` migrates to and `schema:verify` checks. */
export const schema = defineSchema(callLog)

/** Pass to Kysely: `new Kysely<Database>(...)`. */
export type Database = DatabaseOf<typeof schema>
