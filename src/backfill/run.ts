import { type Kysely, sql } from 'kysely'
import { backoffDelay, sleep } from '../apply/timing.js'
import { MigratorError } from '../errors.js'
import { displayTableName } from '../model/model.js'
import { type BackfillSettings, durationMs } from '../settings.js'
import type { Timeouts } from '../plan/plan.js'
import { hintForDatabaseError, isConnectionLost, sqlStateOf } from '../target/database-errors.js'
import type { PoolerEvidence } from '../target/open.js'
import { type BatchStep, type BatchTimeouts, runBatch } from './batch.js'
import { checkBackfill } from './check.js'
import type { BackfillModel } from './definition.js'
import { BackfillError, BackfillInterruptedError } from './errors.js'
import { type BackfillTarget, inspectBackfill } from './inspect.js'
import { describeKey, type Key, keyAsText, keyList, keyRange, keyRow, keyValues, tableSql } from './keyset.js'
import { acquireBackfillLock, releaseBackfillLock } from './lock.js'
import { BatchPace } from './pace.js'
import { ensureProgressTable, finishProgress, readProgress, startProgress } from './progress.js'

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

export type BackfillPhase = 'walk' | 'final-pass' | 'catch-up'

export type BackfillEvent =
  | { readonly type: 'lock-waiting'; readonly backfill: string; readonly holder: string | null }
  | { readonly type: 'already-finished'; readonly backfill: string; readonly finishedAt: string; readonly rowsDone: number }
  | {
      readonly type: 'started'
      readonly backfill: string
      readonly table: string
      readonly keyColumns: readonly string[]
      /** Where a resumed run picks up; `null` from the start. */
      readonly resumedAfter: Key | null
      readonly rowsDoneBefore: number
      /** The planner's estimate of the keys left to walk. */
      readonly estimatedKeys: number
      readonly rerun: boolean
    }
  | {
      readonly type: 'batch'
      readonly backfill: string
      readonly phase: BackfillPhase
      readonly keys: number
      readonly rows: number
      readonly size: number
      readonly ms: number
      readonly reached: Key | null
      /** A row that needed it but another session held: the next batch waits for it. */
      readonly held: Key | null
      /** Totals of this run so far. */
      readonly keysWalked: number
      readonly rowsUpdated: number
      readonly estimatedKeys: number
    }
  | {
      readonly type: 'retrying'
      readonly backfill: string
      /** The row waited for, when the wait was for a row. */
      readonly key: Key | null
      readonly holder: string | null
      readonly sqlState: string
      readonly cause: string
      readonly retry: number
      readonly retries: number
      readonly delayMs: number
    }
  | { readonly type: 'batch-shrunk'; readonly backfill: string; readonly size: number; readonly cause: string }
  | { readonly type: 'final-pass'; readonly backfill: string; readonly after: Key | null; readonly upTo: Key; readonly keys: number; readonly rows: number }
  | { readonly type: 'caught-up'; readonly backfill: string; readonly found: number; readonly rows: number }
  | { readonly type: 'checked'; readonly backfill: string; readonly upTo: Key | null; readonly keys: number; readonly remaining: number }
  | {
      readonly type: 'finished'
      readonly backfill: string
      readonly rows: number
      readonly keys: number
      readonly batches: number
      readonly ms: number
      readonly rowsDoneTotal: number
    }

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

const RETRYABLE = new Set(['55P03', '40P01', '40001'])

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
      const state = sqlStateOf(error)
      throw new MigratorError('backfill', `${messageOf(error)}${state ? ` (SQLSTATE ${state})` : ''}`, {
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
    throw new BackfillError(backfill, `${messageOf(error)}${sqlStateOf(error) ? ` (SQLSTATE ${sqlStateOf(error)})` : ''}`, {
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

/** Walks key ranges of one backfill's table in batches, retrying and pacing them, and counts what it did. */
class Walker {
  keysWalked = 0
  rowsUpdated = 0
  batches = 0
  estimatedKeys = 0
  readonly #pace: BatchPace
  readonly #timeouts: BatchTimeouts

  constructor(
    readonly db: Kysely<unknown>,
    readonly target: BackfillTarget,
    readonly request: BackfillRequest,
  ) {
    const { settings, timeouts } = request
    this.#pace = new BatchPace(settings)
    const lockMs = durationMs(timeouts.lockTimeout)
    this.#timeouts = {
      lockTimeout: timeouts.lockTimeout,
      waitStatementTimeout: lockMs === 0 ? settings.statementTimeout : `${lockMs + Math.max(1_000, durationMs(settings.statementTimeout))}ms`,
      // A batch waits for a row no longer than about its own duration before it switches to skipping held rows.
      rowWait: `${lockMs === 0 ? settings.batchTargetMs : Math.min(settings.batchTargetMs, lockMs)}ms`,
      statementTimeout: settings.statementTimeout,
    }
  }

  /**
   * Fills the rows of `(after, upTo]` that need it, batch by batch.
   * @returns the last key walked.
   */
  async walk(phase: BackfillPhase, after: Key | null, upTo: Key): Promise<Key | null> {
    const { backfill } = this.target
    const { request } = this
    let position = after
    let waitFor: Key | null = null
    let failures = 0
    for (;;) {
      if (request.signal.aborted) throw this.#interrupted(phase, position)
      let outcome
      const step: { step: BatchStep } = { step: 'taking the table lock' }
      try {
        outcome = await runBatch(
          this.db,
          this.target,
          { after: position, upTo, size: this.#pace.size, waitFor, advance: phase !== 'catch-up', timeouts: this.#timeouts },
          step,
        )
      } catch (error) {
        const heldRow = step.step === 'waiting for the held row' ? waitFor : null
        if (request.signal.aborted) throw this.#interrupted(phase, position)
        const state = sqlStateOf(error)
        if (state === '57014' && this.#pace.shrink()) {
          request.onEvent({ type: 'batch-shrunk', backfill: backfill.name, size: this.#pace.size, cause: messageOf(error) })
          continue
        }
        if (state && RETRYABLE.has(state) && failures < request.lockRetries) {
          failures++
          const delayMs = backoffDelay(failures)
          request.onEvent({
            type: 'retrying',
            backfill: backfill.name,
            key: heldRow,
            holder: heldRow ? await this.#rowHolder(heldRow) : null,
            sqlState: state,
            cause: heldRow ? messageOf(error) : `${step.step}: ${messageOf(error)}`,
            retry: failures,
            retries: request.lockRetries,
            delayMs,
          })
          await sleep(delayMs, request.signal).catch(() => {
            throw this.#interrupted(phase, position)
          })
          continue
        }
        throw await this.#failed(error, { position, step: step.step, heldRow, failures })
      }
      if (outcome.keys === 0) return position
      failures = 0
      this.keysWalked += outcome.keys
      this.rowsUpdated += outcome.rows
      this.batches++
      request.onEvent({
        type: 'batch',
        backfill: backfill.name,
        phase,
        keys: outcome.keys,
        rows: outcome.rows,
        size: this.#pace.size,
        ms: Math.round(outcome.ms),
        reached: outcome.reached,
        held: outcome.blocked,
        keysWalked: this.keysWalked,
        rowsUpdated: this.rowsUpdated,
        estimatedKeys: Math.max(this.estimatedKeys, this.keysWalked),
      })
      position = outcome.reached
      waitFor = outcome.blocked
      const rest = this.#pace.afterBatch(outcome.ms, outcome.rows)
      if (rest > 0) {
        await sleep(rest, request.signal).catch(() => {
          throw this.#interrupted(phase, position)
        })
      }
    }
  }

  async check(upTo: Key) {
    try {
      return await checkBackfill(this.db, this.target, { upTo, statementTimeout: this.#timeouts.statementTimeout, signal: this.request.signal })
    } catch (error) {
      if (this.request.signal.aborted) throw new BackfillInterruptedError(this.target.backfill, 'during its final check (read-only)')
      throw error
    }
  }

  /** The table's last primary key now; `null` when it is empty. */
  async lastKey(): Promise<Key | null> {
    const { rows } = await sql<{ key: string[] }>`
      SELECT ${keyAsText(this.target)} AS key FROM ${tableSql(this.target)} ORDER BY ${keyList(this.target, 'DESC')} LIMIT 1`.execute(this.db)
    return rows[0]?.key ?? null
  }

  /** The planner's estimate of the keys after `after`: free, and close enough for a progress bar. */
  async estimateKeysAfter(after: Key | null): Promise<number> {
    const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`
      EXPLAIN (FORMAT JSON) SELECT FROM ${tableSql(this.target)} WHERE ${keyRange(this.target, after, null)}`.execute(this.db)
    return Math.round(rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0)
  }

  /** `backend pid 123 (api)`: the session whose transaction holds the row, when PostgreSQL can tell. */
  async #rowHolder(key: Key): Promise<string | null> {
    try {
      const { rows } = await sql<{ pid: number; application_name: string | null }>`
        SELECT a.pid, a.application_name FROM ${tableSql(this.target)} AS _bf_row
          JOIN pg_catalog.pg_stat_activity a ON a.backend_xid = _bf_row.xmax
         WHERE ${keyRow(this.target, '_bf_row')} = ${keyValues(key)}`.execute(this.db)
      const row = rows[0]
      return row ? `backend pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ''}` : null
    } catch {
      return null
    }
  }

  #interrupted(phase: BackfillPhase, position: Key | null): BackfillInterruptedError {
    const where = position ? `after ${describeKey(this.target, position)}` : 'before its first batch'
    return new BackfillInterruptedError(this.target.backfill, `during its ${phase === 'walk' ? 'walk' : phase.replace('-', ' ')} ${where}`)
  }

  async #failed(
    error: unknown,
    { position, step, heldRow, failures }: { position: Key | null; step: BatchStep; heldRow: Key | null; failures: number },
  ): Promise<BackfillError> {
    const { backfill } = this.target
    const { timeouts, lockRetries } = this.request
    const state = sqlStateOf(error)
    const after = position ? `after ${describeKey(this.target, position)}` : 'at the start of the table'
    const table = displayTableName(backfill.table)
    if (state && RETRYABLE.has(state) && heldRow) {
      const holder = await this.#rowHolder(heldRow)
      return new BackfillError(
        backfill,
        `row ${describeKey(this.target, heldRow)} of ${table} stayed held by another session${holder ? ` (${holder})` : ''} through ${failures + 1} waits of lock_timeout ${timeouts.lockTimeout}; the batch was rolled back and no row was skipped`,
        {
          sqlState: state,
          cause: error,
          hint: `find the session (SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY xact_start) and let it finish or end it, then run schema:backfill again: it resumes at that row. Raise SCHEMA_LOCK_RETRIES to wait longer`,
        },
      )
    }
    const where = backfill.definedAt ? ` (${backfill.definedAt})` : ''
    const hint =
      state === '55P03' || state === '40P01' || state === '40001'
        ? `another session held ${table} or its rows through ${lockRetries + 1} attempts: find it in pg_stat_activity / pg_locks, then run schema:backfill again; it resumes after the last committed batch`
        : state === '57014'
          ? `a batch of ${this.#pace.size} keys (the smallest allowed) outran the statement timeout ${this.#timeouts.statementTimeout}: raise SCHEMA_BACKFILL_STATEMENT_TIMEOUT, or lower SCHEMA_BACKFILL_BATCH_MIN`
          : state?.startsWith('22') || state?.startsWith('23')
            ? `the declared set fails on a row ${after}: fix the declaration${where} (the change then needs schema:backfill --rerun ${backfill.name}); rows before it are filled and recorded`
            : isConnectionLost(error)
              ? 'the connection was lost: run schema:backfill again; it resumes after the last committed batch'
              : (hintForDatabaseError(error) ?? 'run schema:backfill again: it resumes after the last committed batch')
    return new BackfillError(backfill, `a batch ${after} failed while ${step}: ${messageOf(error)}${state ? ` (SQLSTATE ${state})` : ''}`, { sqlState: state, cause: error, hint })
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
