import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import type { ApplyEvent } from './apply.js'
import { sleep } from './timing.js'

/**
 * The migration lock: a session-level advisory lock, so one runner applies at
 * a time. A second runner polls for it for a bounded time; once it gets it,
 * it re-reads the history and usually finds nothing left to do. If the
 * holder's connection dies, PostgreSQL releases the lock with it.
 *
 * Polled with `pg_try_advisory_lock` rather than waited for with
 * `pg_advisory_lock`: a waiting runner holds no lock and sits in no queue, so
 * it never holds up anything else (a blocked session would, for example,
 * delay every `CREATE INDEX CONCURRENTLY`, which waits for all transactions),
 * its wait is bounded by the tool rather than the server, and a signal ends
 * it between polls.
 */

/** Fixed key: every runner against a database must agree on it. Below 2^31, so `pg_locks.objid` shows it as is. */
export const MIGRATION_LOCK_KEY = 72_616_001

const POLL_MS = 250

interface LockRequest {
  readonly lockWaitMs: number
  readonly signal: AbortSignal
  readonly onEvent: (event: ApplyEvent) => void
}

export async function acquireMigrationLock(conn: Kysely<unknown>, request: LockRequest): Promise<void> {
  const started = performance.now()
  let holder: string | null | undefined
  for (;;) {
    const { rows } = await sql<{ acquired: boolean }>`SELECT pg_try_advisory_lock(${MIGRATION_LOCK_KEY}::bigint) AS acquired`.execute(conn)
    if (rows[0]?.acquired) {
      request.onEvent({ type: 'lock-acquired', waitedMs: performance.now() - started })
      return
    }
    if (holder === undefined) {
      holder = await describeHolder(conn)
      request.onEvent({ type: 'lock-waiting', holder })
    }
    if (performance.now() - started >= request.lockWaitMs) {
      throw new MigratorError(
        'lock',
        `another schema:apply holds the migration lock (advisory lock ${MIGRATION_LOCK_KEY}${holder ? `, ${holder}` : ''}) and did not release it within ${Math.round(request.lockWaitMs / 1000)}s`,
        { hint: 'let the other run finish and run schema:apply again, or raise SCHEMA_APPLY_LOCK_WAIT' },
      )
    }
    await sleep(POLL_MS, request.signal).catch(() => {
      throw new MigratorError('lock', 'interrupted while waiting for the migration lock; nothing was applied', {
        hint: 'run schema:apply again once the other run has finished; nothing of this run needs undoing',
      })
    })
  }
}

export async function releaseMigrationLock(conn: Kysely<unknown>): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`.execute(conn)
}

/** `backend pid 123 (schema-migrate)`: who holds the lock, for the operator. */
async function describeHolder(conn: Kysely<unknown>): Promise<string | null> {
  const { rows } = await sql<{ pid: number; application_name: string | null }>`
    SELECT l.pid, a.application_name
      FROM pg_catalog.pg_locks l
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = ${MIGRATION_LOCK_KEY} AND l.objsubid = 1
       -- Advisory locks are per database: a run against another database of the server holds a key of its own.
       AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`.execute(conn)
  const row = rows[0]
  if (!row) return null
  return `backend pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ''}`
}
