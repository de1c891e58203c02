import { type Kysely, sql } from 'kysely'
import { breaksSchema, describeChange } from '../diff/describe.js'
import { MigratorError } from '../errors.js'
import { ensureHistory, readHistory, recordApplied } from '../migrations/history.js'
import type { GeneratedMigration } from '../migrations/migration.js'
import { pendingMigrations } from '../migrations/pending.js'
import { type SchemaModel, sizeOf } from '../model/model.js'
import { compare } from '../pipeline.js'
import { subjectOf, type Timeouts } from '../plan/plan.js'
import { hintForDatabaseError, isConnectionLost, sqlStateOf } from '../target/database-errors.js'
import { acquireMigrationLock, releaseMigrationLock } from './migration-lock.js'
import { backoffDelay, sleep } from './timing.js'

/**
 * `schema:apply`: pending generated migrations, each in its own transaction
 * with its own lock and statement timeouts, retried a bounded number of times
 * on lock timeout or deadlock, then the post-apply assertion. Any failure
 * stops the run at once.
 *
 * Kysely's `Migrator` is not used to run them: it applies every pending
 * migration in one transaction, has no per-statement timeouts or retry, and
 * reports failures in its result rather than throwing. The generated files
 * stay runnable by it (`up`/`down`).
 *
 * Everything runs on one pinned connection: the session-level advisory lock
 * belongs to it, and a cancel request (SIGINT/SIGTERM) targets its backend.
 */

export type ApplyEvent =
  | { readonly type: 'lock-waiting'; readonly holder: string | null }
  | { readonly type: 'lock-acquired'; readonly waitedMs: number }
  | { readonly type: 'pending'; readonly applied: number; readonly pending: readonly string[] }
  | { readonly type: 'migration-started'; readonly migration: string; readonly steps: number; readonly attempt: number }
  | {
      readonly type: 'step-ran'
      readonly migration: string
      readonly step: number
      readonly steps: number
      readonly subject: string
      readonly kind: string
      readonly ms: number
    }
  | {
      readonly type: 'retrying'
      readonly migration: string
      readonly step: string
      readonly sqlState: string
      readonly cause: string
      readonly retry: number
      readonly retries: number
      readonly delayMs: number
    }
  | { readonly type: 'migration-committed'; readonly migration: string; readonly ms: number; readonly attempts: number }
  | { readonly type: 'verified'; readonly tables: number; readonly columns: number }

export interface ApplyRequest {
  readonly db: Kysely<unknown>
  readonly declared: SchemaModel
  readonly migrations: readonly GeneratedMigration[]
  readonly timeouts: Timeouts
  /** Retries after 55P03 (lock timeout) or 40P01 (deadlock); nothing else is retried. */
  readonly lockRetries: number
  /** How long to wait for another runner's migration lock. */
  readonly lockWaitMs: number
  readonly signal: AbortSignal
  /** Interrupts the pinned connection's running statement (see `Target.cancelBackend`). */
  readonly cancelBackend: (pid: number) => Promise<void>
  readonly onEvent: (event: ApplyEvent) => void
  /** Run the post-apply assertion (default). `schema:check` turns it off to report every difference itself. */
  readonly assert?: boolean
}

export interface ApplyResult {
  readonly applied: readonly { readonly name: string; readonly steps: number }[]
  readonly alreadyApplied: number
  readonly verified: { readonly tables: number; readonly columns: number }
}

/** A step, COMMIT or bookkeeping statement failed; names the migration, the step and the SQLSTATE. */
export class StepFailedError extends MigratorError {
  override readonly name = 'StepFailedError'
  constructor(
    readonly migration: string,
    /** `step 2/3 (add-column call_log.ended_at)`, `COMMIT`, ... */
    readonly step: string,
    readonly sqlState: string | null,
    readonly attempts: number,
    cause: unknown,
    hint?: string,
  ) {
    const state = sqlState ? ` (SQLSTATE ${sqlState})` : ''
    const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
    super('apply', `${migration} ${step} failed${tries}: ${messageOf(cause)}${state}`, {
      cause,
      ...(hint === undefined ? {} : { hint }),
    })
  }
}

/** SIGINT or SIGTERM arrived; the open transaction was rolled back. */
export class InterruptedError extends MigratorError {
  override readonly name = 'InterruptedError'
  constructor(readonly migration: string | null, where: string) {
    super('apply', `interrupted ${where}; the open transaction was rolled back`, {
      hint: 'run schema:apply again: applied migrations are recorded, the interrupted one runs again from its start',
    })
  }
}

/** The post-apply assertion found the live schema short of `schema/`. */
export class SchemaMismatchError extends MigratorError {
  override readonly name = 'SchemaMismatchError'
  constructor(readonly mismatches: readonly { readonly subject: string; readonly problem: string }[]) {
    super('assert', `the live schema does not match schema/ after applying: ${mismatches.map((m) => m.subject).join(', ')}`, {
      hint: 'a guarded step skipped an object that already exists in another form, or schema/ changed without a plan: run schema:plan to see what differs',
    })
  }
}

const RETRYABLE = new Set(['55P03', '40P01'])

export async function applyMigrations(request: ApplyRequest): Promise<ApplyResult> {
  return request.db.connection().execute(async (conn) => {
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
    const pid = Number(rows[0]?.pid)
    const cancel = () => void request.cancelBackend(pid).catch(() => {})
    request.signal.addEventListener('abort', cancel)
    try {
      await acquireMigrationLock(conn, request)
      try {
        return await applyLocked(conn, request)
      } finally {
        await releaseMigrationLock(conn).catch(() => {}) // a dead connection released it already
      }
    } catch (error) {
      // A database error outside a migration (history table, lock, assertion query) still names its cause and fix.
      if (error instanceof MigratorError) throw error
      const state = sqlStateOf(error)
      throw new MigratorError('apply', `${messageOf(error)}${state ? ` (SQLSTATE ${state})` : ''}`, {
        cause: error,
        hint: hintForDatabaseError(error) ?? 'run schema:apply again; if it fails the same way, the message above names the cause',
      })
    } finally {
      request.signal.removeEventListener('abort', cancel)
    }
  })
}

async function applyLocked(conn: Kysely<unknown>, request: ApplyRequest): Promise<ApplyResult> {
  await ensureHistory(conn)
  const history = await readHistory(conn)
  const pending = pendingMigrations(request.migrations, history)
  request.onEvent({ type: 'pending', applied: history.length, pending: pending.map((m) => m.name) })

  for (const migration of pending) await applyWithRetry(conn, migration, request)

  const applied = pending.map((m) => ({ name: m.name, steps: m.steps.length }))
  if (request.assert === false) return { applied, alreadyApplied: history.length, verified: { tables: 0, columns: 0 } }
  const { changes } = await compare(conn, request.declared)
  const mismatches = changes.filter(breaksSchema).map((change) => ({ subject: subjectOf(change), problem: describeChange(change) }))
  if (mismatches.length > 0) throw new SchemaMismatchError(mismatches)
  const verified = sizeOf(request.declared)
  request.onEvent({ type: 'verified', ...verified })
  return { applied, alreadyApplied: history.length, verified }
}

async function applyWithRetry(conn: Kysely<unknown>, migration: GeneratedMigration, request: ApplyRequest): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const position = { step: 'BEGIN' }
    try {
      await applyOnce(conn, migration, request, attempt, position)
      return
    } catch (error) {
      // If the connection is gone, the server has rolled back already and this fails too.
      await sql`ROLLBACK`.execute(conn).catch(() => {})
      if (request.signal.aborted) throw new InterruptedError(migration.name, `during ${migration.name} ${position.step}`)
      const sqlState = sqlStateOf(error)
      if (sqlState && RETRYABLE.has(sqlState) && attempt <= request.lockRetries) {
        const delayMs = backoffDelay(attempt)
        request.onEvent({
          type: 'retrying',
          migration: migration.name,
          step: position.step,
          sqlState,
          cause: messageOf(error),
          retry: attempt,
          retries: request.lockRetries,
          delayMs,
        })
        await sleep(delayMs, request.signal).catch(() => {
          throw new InterruptedError(migration.name, `while waiting to retry ${migration.name}`)
        })
        continue
      }
      throw new StepFailedError(migration.name, position.step, sqlState, attempt, error, hintFor(error, position.step, request))
    }
  }
}

async function applyOnce(
  conn: Kysely<unknown>,
  migration: GeneratedMigration,
  request: ApplyRequest,
  attempt: number,
  position: { step: string },
): Promise<void> {
  const started = performance.now()
  request.onEvent({ type: 'migration-started', migration: migration.name, steps: migration.steps.length, attempt })
  await sql`BEGIN`.execute(conn)
  // Transaction-local (SET LOCAL): they bound every statement below and end with the transaction.
  position.step = 'setting timeouts'
  await sql`SELECT set_config('lock_timeout', ${request.timeouts.lockTimeout}, true),
                   set_config('statement_timeout', ${request.timeouts.statementTimeout}, true)`.execute(conn)
  for (const [index, step] of migration.steps.entries()) {
    position.step = `step ${index + 1}/${migration.steps.length} (${step.kind} ${step.subject})`
    if (request.signal.aborted) throw new InterruptedError(migration.name, `before ${position.step}`)
    const stepStarted = performance.now()
    await sql.raw(step.sql).execute(conn)
    request.onEvent({
      type: 'step-ran',
      migration: migration.name,
      step: index + 1,
      steps: migration.steps.length,
      subject: step.subject,
      kind: step.kind,
      ms: performance.now() - stepStarted,
    })
  }
  position.step = 'recording it in the history table'
  await recordApplied(conn, migration, performance.now() - started)
  position.step = 'COMMIT'
  await sql`COMMIT`.execute(conn)
  request.onEvent({ type: 'migration-committed', migration: migration.name, ms: performance.now() - started, attempts: attempt })
}

function hintFor(error: unknown, position: string, request: ApplyRequest): string | undefined {
  switch (sqlStateOf(error)) {
    case '55P03':
    case '40P01':
      return `another session held a conflicting lock through ${request.lockRetries + 1} attempts of lock_timeout ${request.timeouts.lockTimeout}: find it in pg_stat_activity / pg_locks, or deploy when traffic is lower`
    case '57014':
      return `statement_timeout ${request.timeouts.statementTimeout} ended the statement: raise SCHEMA_STATEMENT_TIMEOUT (0 means no limit)`
  }
  if (position === 'COMMIT' && isConnectionLost(error)) {
    return 'the connection was lost at COMMIT, so the migration may or may not have committed: run schema:apply again; it reads the history and re-checks the live schema, and converges either way'
  }
  return hintForDatabaseError(error)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
