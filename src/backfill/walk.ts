import { type Kysely, sql } from 'kysely'
import { backoffDelay, sleep } from '../apply/timing.js'
import { displayTableName } from '../model/model.js'
import { durationMs } from '../settings.js'
import { hintForDatabaseError, isConnectionLost, sqlStateOf, sqlStateSuffix } from '../target/database-errors.js'
import { type BatchStep, type BatchTimeouts, runBatch } from './batch.js'
import { checkBackfill } from './check.js'
import { BackfillError, BackfillInterruptedError } from './errors.js'
import type { BackfillPhase } from './events.js'
import type { BackfillTarget } from './inspect.js'
import { describeKey, type Key, keyAsText, keyList, keyRange, keyRow, keyValues, tableSql } from './keyset.js'
import { BatchPace } from './pace.js'
import type { BackfillRequest } from './run.js'

/**
 * Walking a key range of one backfill's table, batch by batch: retries a
 * batch that met a lock timeout, deadlock or serialization failure a bounded
 * number of times, halves one that outran its statement timeout, paces them,
 * and turns anything else into an error that names the batch.
 */

/** Retried a bounded number of times; anything else fails the run at once. */
const RETRYABLE = new Set(['55P03', '40P01', '40001'])

/** Walks key ranges of one backfill's table in batches, retrying and pacing them, and counts what it did. */
export class Walker {
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
    return new BackfillError(backfill, `a batch ${after} failed while ${step}: ${messageOf(error)}${sqlStateSuffix(error)}`, { sqlState: state, cause: error, hint })
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
