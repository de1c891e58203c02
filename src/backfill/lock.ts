import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { sleep } from '../apply/timing.js'
import { BackfillError } from './errors.js'

/**
 * One runner per backfill: a session-level advisory lock of its own per
 * backfill, in the two-key space (class `72616002`, then a number derived
 * from the backfill's name), apart from `schema:apply`'s migration lock
 * (`72616001`, one bigint key). A backfill never holds or waits for the
 * migration lock, so it never holds up a deploy.
 *
 * Polled with `pg_try_advisory_lock`, so a waiting runner sits in no lock
 * queue; if the holder's connection dies, PostgreSQL releases the lock.
 */

export const BACKFILL_LOCK_CLASS = 72_616_002

/** Taken, per transaction, while the progress table is created. No backfill's key is 0. */
export const SETUP_LOCK = { classId: BACKFILL_LOCK_CLASS, objectId: 0 } as const

const POLL_MS = 250

/** The second key for `name`: 31 bits of its SHA-256, never 0, so `pg_locks.objid` shows it as is. */
export function backfillLockKey(name: string): number {
  const key = createHash('sha256').update(name).digest().readUInt32BE(0) & 0x7fffffff
  return key === 0 ? 1 : key
}

export interface LockWait {
  readonly waitMs: number
  readonly signal: AbortSignal
  readonly onWaiting: (holder: string | null) => void
}

export async function acquireBackfillLock(db: Kysely<unknown>, backfill: { readonly name: string }, wait: LockWait): Promise<void> {
  const key = backfillLockKey(backfill.name)
  const started = performance.now()
  let holder: string | null | undefined
  for (;;) {
    const { rows } = await sql<{ acquired: boolean }>`SELECT pg_try_advisory_lock(${BACKFILL_LOCK_CLASS}, ${key}) AS acquired`.execute(db)
    if (rows[0]?.acquired) return
    if (holder === undefined) {
      holder = await describeHolder(db, key)
      wait.onWaiting(holder)
    }
    if (performance.now() - started >= wait.waitMs) {
      throw new BackfillError(
        backfill,
        `another runner is running it (advisory lock ${BACKFILL_LOCK_CLASS}/${key}${holder ? `, ${holder}` : ''}) and did not finish within ${Math.round(wait.waitMs / 1000)}s; this run wrote nothing for it`,
        { hint: 'one runner per backfill: let the other finish (it records its progress as it goes), or raise SCHEMA_BACKFILL_LOCK_WAIT to wait for it' },
      )
    }
    await sleep(POLL_MS, wait.signal).catch(() => {
      throw new BackfillError(backfill, 'interrupted while waiting for another runner of it; this run wrote nothing for it')
    })
  }
}

export async function releaseBackfillLock(db: Kysely<unknown>, backfill: { readonly name: string }): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${BACKFILL_LOCK_CLASS}, ${backfillLockKey(backfill.name)})`.execute(db)
}

/** `backend pid 123 (schema-backfill)`: who runs it, for the operator. */
async function describeHolder(db: Kysely<unknown>, key: number): Promise<string | null> {
  const { rows } = await sql<{ pid: number; application_name: string | null }>`
    SELECT l.pid, a.application_name
      FROM pg_catalog.pg_locks l
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${BACKFILL_LOCK_CLASS} AND l.objid = ${key} AND l.objsubid = 2
       AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`.execute(db)
  const row = rows[0]
  if (!row) return null
  return `backend pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ''}`
}
