import type { Kysely } from 'kysely'
import { MigratorError } from '../errors.js'
import { displayTableName } from '../model/model.js'
import type { Timeouts } from '../plan/plan.js'
import type { BackfillSettings } from '../settings.js'
import { hintForDatabaseError, sqlStateOf, sqlStateSuffix } from '../target/database-errors.js'
import type { PoolerEvidence } from '../target/open.js'
import type { BackfillModel } from './definition.js'
import { BackfillError, BackfillInterruptedError } from './errors.js'
import type { BackfillEvent } from './events.js'
import { type BackfillTarget, inspectBackfill } from './inspect.js'
import { describeKey } from './keyset.js'
import { acquireBackfillLock, releaseBackfillLock } from './lock.js'
import { ensureProgressTable, finishProgress, readProgress, startProgress } from './progress.js'
import { Walker } from './walk.js'

/**
 * `schema:backfill`: each declared backfill in turn, walked through its
 * table in primary key order in short batches (see `batch.ts`), resumable
 * from the last committed batch, then a final pass over the rows inserted
 * meanwhile and a check that no row up to the key reached still needs it.
 *
 * Every backfill is inspected before the first one writes: a missing table
 * or column, a table without a primary key or SQL PostgreSQL rejects fails
 * the run with nothing written.
 *
 * Everything runs on one pinned connection: the advisory locks belong to it,
 * and a cancel request (SIGINT/SIGTERM) targets its backend, which rolls the
 * open batch back.
 */

export interface BackfillRequest {
  readonly db: Kysely<unknown>
  readonly backfills: readonly BackfillModel[]
  readonly settings: BackfillSettings
  /** Batches wait for a held row at most `lockTimeout`; `statementTimeout` is not used (see `settings.statementTimeout`). */
  readonly timeouts: Timeouts
  /** Retries after a lock timeout, deadlock or serialization failure; nothing else is retried. */
  readonly lockRetries: number
  /** Backfills to start again from the beginning, even if finished or changed since they ran. */
  readonly rerun: ReadonlySet<string>
  readonly signal: AbortSignal
  /** Evidence of a connection pooler between the tool and the server (`Target.pooler`): the run then refuses. */
  readonly pooler?: PoolerEvidence | null
  /** Interrupts the statement the pinned connection is running (see `Target.cancel`). */
  readonly cancel: () => Promise<void>
  /** Drops the pinned connection, when a cancel has not ended the run in time (see `Target.disconnect`). */
  readonly disconnect?: () => void
  readonly onEvent: (event: BackfillEvent) => void
}

export interface BackfillSummary {
  readonly backfill: string
  readonly table: string
  readonly outcome: 'finished' | 'already-finished'
  /** Rows this run updated. */
  readonly rows: number
  readonly batches: number
  /** Rows updated since the backfill (re)started, over every run. */
  readonly rowsDoneTotal: number
  readonly ms: number
}

/** How long a SIGINT/SIGTERM waits for its cancel to end the running statement before the connection is dropped. */
const CANCEL_GRACE_MS = 3_000

/** Refuses `--rerun` names that schema/ does not declare; the CLI calls it before connecting. */
export function checkRerun(backfills: readonly BackfillModel[], rerun: ReadonlySet<string>): void {
  const unknown = [...rerun].filter((name) => !backfills.some((b) => b.name === name))
  if (unknown.length === 0) return
  throw new MigratorError('settings', `--rerun names ${unknown.map((n) => `"${n}"`).join(', ')}, which schema/ does not declare`, {
    hint: backfills.length === 0 ? 'schema/ declares no backfill' : `declared backfills: ${backfills.map((b) => b.name).join(', ')}`,
  })
}

export async function runBackfills(request: BackfillRequest): Promise<BackfillSummary[]> {
  checkRerun(request.backfills, request.rerun)
  if (request.pooler) {
    throw new MigratorError(
      'connect',
      `the database URL reaches PostgreSQL through a connection pooler (the connection's cancel key does not name backend ${request.pooler.backendPid}); schema:backfill holds a session-level lock per backfill and cancels its own batch on SIGTERM, which need a session of its own`,
      { hint: 'set DATABASE_URL_DIRECT to a direct connection to the server; the application keeps the pooled DATABASE_URL. Nothing was written.' },
    )
  }
  if (request.backfills.length === 0) return []

  return request.db.connection().execute(async (db) => {
    let dropTimer: NodeJS.Timeout | undefined
    const cancel = () => {
      void request.cancel().catch(() => {})
      // A cancel lost between two statements, or one that cannot reach the server, must not keep the
      // operator waiting: drop the connection, and the server rolls the open batch back.
      dropTimer = setTimeout(() => request.disconnect?.(), CANCEL_GRACE_MS)
    }
    request.signal.addEventListener('abort', cancel)
    try {
      // Every backfill is inspected before the first one writes anything.
      const targets: BackfillTarget[] = []
      for (const backfill of request.backfills) {
        if (request.signal.aborted) throw new MigratorError('backfill', 'interrupted before any backfill started; nothing was written')
        targets.push(await inspectBackfill(db, backfill))
      }
      await ensureProgressTable(db)
      const summaries: BackfillSummary[] = []
      for (const target of targets) summaries.push(await runOne(db, target, request))
      return summaries
    } catch (error) {
      if (error instanceof MigratorError) throw error
      if (request.signal.aborted) throw new MigratorError('backfill', 'interrupted before any backfill started; nothing was written')
      throw new MigratorError('backfill', `${messageOf(error)}${sqlStateSuffix(error)}`, {
        cause: error,
        hint: hintForDatabaseError(error) ?? 'run schema:backfill again; if it fails the same way, the message names the cause',
      })
    } finally {
      clearTimeout(dropTimer)
      request.signal.removeEventListener('abort', cancel)
    }
  })
}

async function runOne(db: Kysely<unknown>, target: BackfillTarget, request: BackfillRequest): Promise<BackfillSummary> {
  const { backfill } = target
  await acquireBackfillLock(db, backfill, {
    waitMs: request.settings.lockWaitMs,
    signal: request.signal,
    onWaiting: (holder) => request.onEvent({ type: 'lock-waiting', backfill: backfill.name, holder }),
  })
  try {
    return await runLocked(new Walker(db, target, request))
  } catch (error) {
    if (error instanceof MigratorError) throw error
    if (request.signal.aborted) throw new BackfillInterruptedError(backfill, 'while it read or recorded its progress')
    throw new BackfillError(backfill, `${messageOf(error)}${sqlStateSuffix(error)}`, {
      sqlState: sqlStateOf(error),
      cause: error,
      hint: hintForDatabaseError(error) ?? 'run schema:backfill again: it resumes after the last committed batch',
    })
  } finally {
    await releaseBackfillLock(db, backfill).catch(() => {}) // a dead connection released it already
  }
}

async function runLocked(walker: Walker): Promise<BackfillSummary> {
  const { db, target, request } = walker
  const { backfill } = target
  const table = displayTableName(backfill.table)
  const started = performance.now()
  const rerun = request.rerun.has(backfill.name)
  let progress = await readProgress(db, backfill.name)
  if (progress && progress.checksum !== backfill.checksum && !rerun) {
    throw new BackfillError(
      backfill,
      `its definition changed since it started on ${progress.startedAt.toISOString()} (recorded ${progress.checksum.slice(0, 19)}, declared ${backfill.checksum.slice(0, 19)}); the ${progress.rowsDone} rows done so far were filled by the earlier definition; nothing was written`,
      {
        hint: `if the change is meant, run schema:backfill --rerun ${backfill.name}: it walks ${table} again from the start and fills every row that still meets its where; otherwise restore the declaration${backfill.definedAt ? ` (${backfill.definedAt})` : ''}`,
      },
    )
  }
  if (progress?.finishedAt && !rerun) {
    request.onEvent({ type: 'already-finished', backfill: backfill.name, finishedAt: progress.finishedAt.toISOString(), rowsDone: progress.rowsDone })
    return { backfill: backfill.name, table, outcome: 'already-finished', rows: 0, batches: 0, rowsDoneTotal: progress.rowsDone, ms: Math.round(performance.now() - started) }
  }
  if (!progress || rerun) {
    await startProgress(db, target)
    progress = { checksum: backfill.checksum, lastKey: null, rowsDone: 0, startedAt: new Date(), finishedAt: null }
  }

  const mark = await walker.lastKey()
  walker.estimatedKeys = await walker.estimateKeysAfter(progress.lastKey)
  request.onEvent({
    type: 'started',
    backfill: backfill.name,
    table,
    keyColumns: target.key,
    resumedAfter: progress.lastKey,
    rowsDoneBefore: progress.rowsDone,
    estimatedKeys: walker.estimatedKeys,
    rerun,
  })

  // The walk stops at the last key there was when it started, so that inserts cannot keep it going forever;
  // the final pass then takes the rows inserted meanwhile, up to the last key there is now.
  let reached = mark ? await walker.walk('walk', progress.lastKey, mark) : progress.lastKey
  const end = await walker.lastKey()
  if (end) {
    const before = { keys: walker.keysWalked, rows: walker.rowsUpdated }
    const after = reached
    reached = await walker.walk('final-pass', after, end)
    request.onEvent({ type: 'final-pass', backfill: backfill.name, after, upTo: end, keys: walker.keysWalked - before.keys, rows: walker.rowsUpdated - before.rows })
  }

  if (reached) {
    let check = await walker.check(reached)
    if (check.remaining > 0) {
      // Rows an application inserted or changed behind the walk (a key allocated before it passed, committed after),
      // or rows the definition does not fill: fill what can be filled, then check again.
      const before = walker.rowsUpdated
      for (const range of check.dirty) await walker.walk('catch-up', range.after, range.upTo)
      request.onEvent({ type: 'caught-up', backfill: backfill.name, found: check.remaining, rows: walker.rowsUpdated - before })
      check = await walker.check(reached)
    }
    request.onEvent({ type: 'checked', backfill: backfill.name, upTo: reached, keys: check.keys, remaining: check.remaining })
    if (check.remaining > 0) {
      throw new BackfillError(
        backfill,
        `the final check found ${check.remaining} rows up to ${describeKey(target, reached)} that still meet its where after it filled them; it is not marked finished`,
        {
          hint: `the set expressions leave where true for those rows (an expression that yields NULL, for example): find them with SELECT * FROM ${table} WHERE ${backfill.where.replaceAll('\n', ' ')}; fix the declaration${backfill.definedAt ? ` (${backfill.definedAt})` : ''}, then run schema:backfill --rerun ${backfill.name}`,
        },
      )
    }
  } else {
    request.onEvent({ type: 'checked', backfill: backfill.name, upTo: null, keys: 0, remaining: 0 })
  }
  await finishProgress(db, backfill.name, reached)
  const rowsDoneTotal = progress.rowsDone + walker.rowsUpdated
  const ms = Math.round(performance.now() - started)
  request.onEvent({ type: 'finished', backfill: backfill.name, rows: walker.rowsUpdated, keys: walker.keysWalked, batches: walker.batches, ms, rowsDoneTotal })
  return { backfill: backfill.name, table, outcome: 'finished', rows: walker.rowsUpdated, batches: walker.batches, rowsDoneTotal, ms }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
