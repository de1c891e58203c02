import { backfill, c, index, table } from '../src/dsl/index.js'

/**
 * One row per phone call.
 *
 * `started_at`, `ended_at` and `duration_sec` arrived with migration 109 and
 * `summary_status` with 110. They are nullable and have no default, so adding
 * them is a catalog-only change: no table rewrite, and the ACCESS EXCLUSIVE
 * lock is held for milliseconds. Existing rows are filled afterwards by
 * `schema:backfill` (below), never inside the migration.
 *
 * `call_sid` is the telephony provider's id for the call: unique, so a
 * webhook delivered twice cannot log a call twice. `created_at` is indexed for
 * the list of recent calls (`ORDER BY created_at DESC LIMIT n` reads the index
 * backwards). On a table in use both are built concurrently: writes go on.
 */
export const callLog = table(
  'call_log',
  {
    id: c.bigserial().primaryKey(),
    call_sid: c.text().notNull().unique(),
    from_number: c.text(),
    to_number: c.text(),
    status: c.text().notNull().default('queued'),
    created_at: c.timestamptz().notNull().defaultSql('now()'),
    started_at: c.timestamptz(),
    ended_at: c.timestamptz(),
    duration_sec: c.integer(),
    summary_status: c.text(),
  },
  { indexes: [index('created_at')] },
)

/**
 * `duration_sec` of the calls made before migration 109: whole seconds from
 * the two timings, where both are known. Calls without them stay NULL.
 */
export const callLogDurationSec = backfill('call_log_duration_sec', callLog, {
  set: { duration_sec: 'floor(extract(epoch FROM ended_at - started_at))::integer' },
  where: 'duration_sec IS NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL',
})
