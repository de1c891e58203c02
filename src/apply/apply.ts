import { type Kysely, sql } from 'kysely'
import { breaksSchema, describeChange } from '../diff/describe.js'
import { MigratorError } from '../errors.js'
import { ensureHistory, HISTORY_SCHEMA, HISTORY_TABLE, readHistory, recordApplied } from '../migrations/history.js'
import { checkIntegrity } from '../migrations/integrity.js'
import { type GeneratedMigration, type MigrationStep, runsInTransaction } from '../migrations/migration.js'
import { pendingMigrations } from '../migrations/pending.js'
import { type SchemaModel, sizeOf } from '../model/model.js'
import { compare } from '../pipeline.js'
import { subjectOf, type Timeouts } from '../plan/plan.js'
import { durationMs, OWN_STATEMENT_TIMEOUT } from '../settings.js'
import { hintForDatabaseError, isConnectionLost, sqlStateOf, sqlStateSuffix } from '../target/database-errors.js'
import type { PoolerEvidence } from '../target/open.js'
import type { BuildProgress, SideQuery } from './index-builds.js'
import { acquireMigrationLock, releaseMigrationLock } from './migration-lock.js'
import { applyStepwise } from './stepwise.js'
import { type TableLock, type TableName, tablesToLock, targetOf } from './step-targets.js'
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
 * That needs a session of its own on the server, so a connection through a
 * pooler is refused before anything runs.
 *
 * Each migration takes every table lock it needs before its first statement:
 * the first lock waits up to `lock_timeout`, the others are taken with NOWAIT,
 * so it never holds one table while it waits for another. An application query
 * therefore waits at most `lock_timeout` plus the migration's own statements,
 * however many tables the migration touches.
 *
 * A migration with steps PostgreSQL refuses inside a transaction
 * (`CONCURRENTLY`) runs step by step instead (`stepwise.ts`): those steps on
 * their own, the others in a transaction per run of them, each recorded as it
 * completes so that a re-run continues where the last one stopped.
 */

export type ApplyEvent =
  | { readonly type: 'lock-waiting'; readonly holder: string | null }
  | { readonly type: 'lock-acquired'; readonly waitedMs: number }
  | { readonly type: 'pending'; readonly applied: number; readonly pending: readonly string[] }
  | {
      readonly type: 'migration-started'
      readonly migration: string
      readonly steps: number
      readonly attempt: number
      /** Set when the migration runs step by step (some of its steps cannot run in a transaction). */
      readonly outsideTransaction?: true
    }
  /** Steps an earlier, interrupted run completed: this run continues after them. */
  | { readonly type: 'steps-resumed'; readonly migration: string; readonly done: readonly number[] }
  /** A run of steps of a step-by-step migration committed, with its progress record. */
  | { readonly type: 'steps-committed'; readonly migration: string; readonly steps: readonly number[]; readonly ms: number; readonly attempts: number }
  /** An index left invalid by a failed or cancelled concurrent build, dropped so it can be built again. */
  | {
      readonly type: 'invalid-index-dropped'
      readonly migration: string
      readonly step: number
      readonly index: string
      readonly when: 'before-build' | 'after-failure'
    }
  | ({ readonly type: 'build-progress'; readonly migration: string; readonly step: number; readonly steps: number } & BuildProgress)
  | { readonly type: 'tables-locked'; readonly migration: string; readonly tables: readonly string[]; readonly ms: number }
  | { readonly type: 'step-started'; readonly migration: string; readonly step: number; readonly steps: number; readonly sql: string }
  | {
      readonly type: 'step-ran'
      readonly migration: string
      readonly step: number
      readonly steps: number
      readonly subject: string
      readonly kind: string
      readonly sql: string
      readonly ms: number
    }
  | {
      readonly type: 'step-skipped'
      readonly migration: string
      readonly step: number
      readonly steps: number
      readonly sql: string
      /** `"public"."call_log" exists`: why running it would do nothing. */
      readonly reason: string
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
  | { readonly type: 'verified'; readonly tables: number; readonly columns: number; readonly indexes: number }

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
  /** Evidence of a connection pooler between the tool and the server (`Target.pooler`): apply then refuses. */
  readonly pooler?: PoolerEvidence | null
  /** Interrupts the statement the pinned connection is running (see `Target.cancel`). */
  readonly cancel: () => Promise<void>
  /** Drops the pinned connection, when a cancel has not ended the run in time (see `Target.disconnect`). */
  readonly disconnect?: () => void
  /** A query on a connection of its own, to watch a long index build from outside (`Target.sideQuery`); none on PGlite. */
  readonly sideQuery?: SideQuery | null
  /** How often a running index build reports its progress; 10 s unless told. */
  readonly progressIntervalMs?: number
  readonly onEvent: (event: ApplyEvent) => void
  /** Run the post-apply assertion (default). `schema:check` turns it off to report every difference itself. */
  readonly assert?: boolean
  /**
   * Skip the refusal of edited, reordered or orphaned files. Only for
   * `schema:check`, which reports them itself and still replays them, on a
   * throwaway database, to report drift as well.
   */
  readonly filesCheckedByCaller?: boolean
}

export interface ApplyResult {
  readonly applied: readonly { readonly name: string; readonly steps: number }[]
  readonly alreadyApplied: number
  readonly verified: { readonly tables: number; readonly columns: number; readonly indexes: number }
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
  /**
   * `stepwise`: the migration runs step by step, so its completed steps stay
   * recorded; what was interrupted is a `transaction` of some of its steps
   * (rolled back) or a `statement` run on its own (cancelled).
   */
  constructor(readonly migration: string | null, where: string, stepwise?: 'transaction' | 'statement') {
    const undone =
      migration === null
        ? 'no migration was running'
        : stepwise === 'statement'
          ? 'the running statement was cancelled (an index build cancelled midway stays behind, invalid)'
          : 'the open transaction was rolled back'
    super('apply', `interrupted ${where}; ${undone}`, {
      hint: stepwise
        ? 'run schema:apply again: it continues after the last completed step, and drops and rebuilds an index that a cancelled build left invalid'
        : 'run schema:apply again: applied migrations are recorded, the interrupted one runs again from its start',
    })
  }
}

/** Generated files that are not as `schema:plan` wrote them: edited, reordered, or with a predecessor gone. */
export class MigrationFilesChangedError extends MigratorError {
  override readonly name = 'MigrationFilesChangedError'
  constructor(readonly problems: readonly { readonly migration: string; readonly problem: string }[]) {
    super('migrations', problems.map((p) => `${p.migration} ${p.problem}`).join('; '), {
      hint: `restore ${problems.map((p) => `${p.migration}.ts`).join(', ')} from version control; to change the schema, edit schema/ and run schema:plan for a new migration. Nothing was run.`,
    })
  }
}

/** The database URL reaches PostgreSQL through a connection pooler, which shares sessions between clients. */
export class PoolerRefusedError extends MigratorError {
  override readonly name = 'PoolerRefusedError'
  constructor(evidence: PoolerEvidence) {
    super(
      'connect',
      `the database URL reaches PostgreSQL through a connection pooler (PgBouncer or similar): the connection's cancel key does not name the backend (pid ${evidence.backendPid}) that ran its statements; schema:apply needs a server session of its own for its migration lock and its cancel on SIGTERM, and the key proves a pooler without telling whether it shares sessions between clients (transaction or statement pooling), so every pooler is refused`,
      {
        hint: 'set DATABASE_URL_DIRECT to a direct connection to the server (its own host and port, not the pooler\'s), as Prisma\'s directUrl; the application keeps the pooled DATABASE_URL. Nothing was run.',
      },
    )
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

/**
 * While a migration holds its table locks, any lock wait its steps meet
 * beyond them (none that apply knows of) is cut this short, so that no table
 * stays locked while the migration waits on something else.
 */
const UNFORESEEN_LOCK_WAIT = '100ms'

/** How long a SIGINT/SIGTERM waits for its cancel to end the running statement before the connection is dropped. */
const CANCEL_GRACE_MS = 3_000

const OWN_STATEMENT_TIMEOUT_TEXT = `statement_timeout of ${OWN_STATEMENT_TIMEOUT}`

export async function applyMigrations(request: ApplyRequest): Promise<ApplyResult> {
  // Offline, before any statement: a file must hold what schema:plan wrote, in the order it wrote them.
  const problems = request.filesCheckedByCaller ? [] : checkIntegrity(request.migrations)
  if (problems.length > 0) throw new MigrationFilesChangedError(problems)
  if (request.pooler) throw new PoolerRefusedError(request.pooler)

  return request.db.connection().execute(async (conn) => {
    // The pinned backend, whose index builds are watched in pg_stat_progress_create_index.
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(conn)
    const pid = Number(rows[0]?.pid)
    let dropTimer: NodeJS.Timeout | undefined
    const cancel = () => {
      void request.cancel().catch(() => {})
      // A cancel lost between two statements, or one that cannot reach the server (a silent network),
      // must not keep the operator waiting: drop the connection, and the server rolls back.
      dropTimer = setTimeout(() => request.disconnect?.(), CANCEL_GRACE_MS)
    }
    request.signal.addEventListener('abort', cancel)
    const bookkeeping = { step: 'taking the migration lock' }
    try {
      await acquireMigrationLock(conn, request)
      try {
        return await applyLocked(conn, pid, request, bookkeeping)
      } finally {
        await releaseMigrationLock(conn).catch(() => {}) // a dead connection released it already
      }
    } catch (error) {
      if (error instanceof MigratorError) throw error
      if (request.signal.aborted) throw new InterruptedError(null, `during ${bookkeeping.step}`)
      // A database error outside a migration (history table, lock, assertion query) still names its cause and fix.
      throw new MigratorError('apply', `${bookkeeping.step} failed: ${messageOf(error)}${sqlStateSuffix(error)}`, {
        cause: error,
        hint: bookkeepingHint(error, bookkeeping.step),
      })
    } finally {
      clearTimeout(dropTimer)
      request.signal.removeEventListener('abort', cancel)
    }
  })
}

async function applyLocked(conn: Kysely<unknown>, pid: number, request: ApplyRequest, bookkeeping: { step: string }): Promise<ApplyResult> {
  bookkeeping.step = `creating the history table ${HISTORY_SCHEMA}.${HISTORY_TABLE}`
  await ensureHistory(conn)
  bookkeeping.step = `reading the history table ${HISTORY_SCHEMA}.${HISTORY_TABLE}`
  const history = await readHistory(conn)
  const pending = pendingMigrations(request.migrations, history)
  request.onEvent({ type: 'pending', applied: history.length, pending: pending.map((m) => m.name) })

  bookkeeping.step = 'applying'
  for (const migration of pending) {
    if (runsInTransaction(migration.steps)) await applyWithRetry(conn, wholeMigration(migration), request)
    else await applyStepwise(conn, pid, migration, request, (unit) => applyWithRetry(conn, unit, request))
  }

  const applied = pending.map((m) => ({ name: m.name, steps: m.steps.length }))
  if (request.assert === false) return { applied, alreadyApplied: history.length, verified: { tables: 0, columns: 0, indexes: 0 } }
  bookkeeping.step = 'the post-apply check reading the catalog'
  const { changes } = await compare(conn, request.declared)
  const mismatches = changes.filter(breaksSchema).map((change) => ({ subject: subjectOf(change), problem: describeChange(change) }))
  if (mismatches.length > 0) throw new SchemaMismatchError(mismatches)
  const verified = sizeOf(request.declared)
  request.onEvent({ type: 'verified', ...verified })
  return { applied, alreadyApplied: history.length, verified }
}

/** Where a migration attempt is, for messages; and the table whose NOWAIT lock failed, to wait for first next time. */
interface Position {
  step: string
  contended: TableLock | null
}

/**
 * What one transaction runs: a whole migration, or a run of the steps of one
 * that runs step by step. Its bookkeeping row is written last, inside it, so
 * both commit or neither.
 */
export interface TransactionUnit {
  readonly migration: GeneratedMigration
  /** Indices into `migration.steps`, in order. */
  readonly steps: readonly number[]
  /** The table `record` writes to, locked NOWAIT with the others before the first step. */
  readonly recordTable: TableName
  readonly record: (conn: Kysely<unknown>, ms: number) => Promise<void>
  /** The whole migration (events `migration-started`/`-committed`), or part of it (`steps-committed`). */
  readonly whole: boolean
}

function wholeMigration(migration: GeneratedMigration): TransactionUnit {
  return {
    migration,
    steps: migration.steps.map((_, index) => index),
    recordTable: { schema: HISTORY_SCHEMA, name: HISTORY_TABLE },
    record: (conn, ms) => recordApplied(conn, migration, ms),
    whole: true,
  }
}

async function applyWithRetry(conn: Kysely<unknown>, unit: TransactionUnit, request: ApplyRequest): Promise<void> {
  const { migration } = unit
  let lockOrder = tablesToLock(unit.steps.map((index) => migration.steps[index] as MigrationStep))
  for (let attempt = 1; ; attempt++) {
    const position: Position = { step: 'BEGIN', contended: null }
    try {
      await applyOnce(conn, unit, request, { attempt, lockOrder }, position)
      return
    } catch (error) {
      // If the connection is gone, the server has rolled back already and this fails too.
      await sql`ROLLBACK`.execute(conn).catch(() => {})
      if (request.signal.aborted) {
        throw new InterruptedError(migration.name, `during ${migration.name} ${position.step}`, unit.whole ? undefined : 'transaction')
      }
      if (retryable(error, attempt, request)) {
        // The table that was busy is the one to wait for next time, holding nothing else meanwhile.
        const { contended } = position
        if (contended) lockOrder = [contended, ...lockOrder.filter((t) => t.schema !== contended.schema || t.name !== contended.name)]
        await waitToRetry(request, { migration: migration.name, step: position.step, error, attempt }, () =>
          new InterruptedError(migration.name, `while waiting to retry ${migration.name}`, unit.whole ? undefined : 'transaction'),
        )
        continue
      }
      throw new StepFailedError(migration.name, position.step, sqlStateOf(error), attempt, error, hintFor(error, position.step, request))
    }
  }
}

/** A lock timeout or deadlock with retries left. */
export function retryable(error: unknown, attempt: number, request: ApplyRequest): boolean {
  const sqlState = sqlStateOf(error)
  return sqlState !== null && RETRYABLE.has(sqlState) && attempt <= request.lockRetries
}

/** Says that attempt `attempt` failed and will be retried, then waits out the backoff; a signal meanwhile ends the run. */
export async function waitToRetry(
  request: ApplyRequest,
  failed: { readonly migration: string; readonly step: string; readonly error: unknown; readonly attempt: number },
  interrupted: () => InterruptedError,
): Promise<void> {
  const delayMs = backoffDelay(failed.attempt)
  request.onEvent({
    type: 'retrying',
    migration: failed.migration,
    step: failed.step,
    sqlState: sqlStateOf(failed.error) ?? '',
    cause: messageOf(failed.error),
    retry: failed.attempt,
    retries: request.lockRetries,
    delayMs,
  })
  await sleep(delayMs, request.signal).catch(() => {
    throw interrupted()
  })
}

async function applyOnce(
  conn: Kysely<unknown>,
  unit: TransactionUnit,
  request: ApplyRequest,
  { attempt, lockOrder }: { readonly attempt: number; readonly lockOrder: readonly TableLock[] },
  position: Position,
): Promise<void> {
  const { migration } = unit
  const started = performance.now()
  const steps = migration.steps.length
  if (unit.whole) request.onEvent({ type: 'migration-started', migration: migration.name, steps, attempt })
  await sql`BEGIN`.execute(conn)
  // Transaction-local (SET LOCAL): they bound every statement below and end with the transaction.
  position.step = 'setting timeouts'
  await sql`SELECT set_config('lock_timeout', ${request.timeouts.lockTimeout}, true),
                   set_config('statement_timeout', ${request.timeouts.statementTimeout}, true)`.execute(conn)

  position.step = 'taking table locks'
  const lockStarted = performance.now()
  const locked = await lockTablesUpFront(conn, lockOrder, position, unit.recordTable)
  if (locked.length > 0) {
    request.onEvent({ type: 'tables-locked', migration: migration.name, tables: locked, ms: performance.now() - lockStarted })
    await sql`SELECT set_config('lock_timeout', ${shorterOf(UNFORESEEN_LOCK_WAIT, request.timeouts.lockTimeout)}, true)`.execute(conn)
  }

  for (const index of unit.steps) {
    const step = migration.steps[index] as MigrationStep
    position.step = `step ${index + 1}/${steps} (${step.kind} ${step.subject})`
    if (request.signal.aborted) throw new InterruptedError(migration.name, `before ${position.step}`, unit.whole ? undefined : 'transaction')
    const where = { migration: migration.name, step: index + 1, steps, sql: step.sql }
    const skip = await alreadyExists(conn, step)
    if (skip) {
      request.onEvent({ type: 'step-skipped', ...where, reason: skip })
      continue
    }
    request.onEvent({ type: 'step-started', ...where })
    const stepStarted = performance.now()
    await sql.raw(step.sql).execute(conn)
    request.onEvent({ type: 'step-ran', ...where, subject: step.subject, kind: step.kind, ms: performance.now() - stepStarted })
  }
  position.step = unit.whole ? 'recording it in the history table' : 'recording its progress'
  await unit.record(conn, performance.now() - started)
  position.step = 'COMMIT'
  await sql`COMMIT`.execute(conn)
  const ms = performance.now() - started
  if (unit.whole) request.onEvent({ type: 'migration-committed', migration: migration.name, ms, attempts: attempt })
  else request.onEvent({ type: 'steps-committed', migration: migration.name, steps: unit.steps.map((i) => i + 1), ms, attempts: attempt })
}

/**
 * Takes the migration's table locks, then the history table's, before any DDL.
 * Only the first waits (up to lock_timeout, holding nothing else); the rest
 * are NOWAIT, so a busy second table ends the attempt at once, releasing the
 * first, instead of the first staying locked while the migration waits.
 * Tables that do not exist are left to the step that needs them.
 *
 * @returns the tables locked, as `schema.name`.
 */
async function lockTablesUpFront(
  conn: Kysely<unknown>,
  order: readonly TableLock[],
  position: Position,
  recordTable: TableName,
): Promise<string[]> {
  const { rows: present } = await sql<{ position: string }>`
    SELECT t.position::text AS position
      FROM unnest(${order.map((t) => t.schema)}::text[], ${order.map((t) => t.name)}::text[]) WITH ORDINALITY AS t(schema, name, position)
     WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = t.schema AND c.relname = t.name)
     ORDER BY t.position`.execute(conn)
  const rows = present.map((row) => order[Number(row.position) - 1] as TableLock)
  const locks = [
    // A closed set of mode names (`TableLockMode`), never user text.
    ...rows.map((table) => ({ table, mode: sql.raw(table.mode) })),
    // The bookkeeping row is written last, while the tables are held: its lock must not wait either.
    { table: recordTable, mode: sql`ROW EXCLUSIVE` },
  ]
  const locked: string[] = []
  for (const [index, { table, mode }] of locks.entries()) {
    const shown = `${table.schema}.${table.name}`
    position.step = `locking table ${shown} before its steps`
    const wait = index === 0 ? sql`` : sql` NOWAIT`
    try {
      await sql`LOCK TABLE ${sql.id(table.schema, table.name)} IN ${mode} MODE${wait}`.execute(conn)
    } catch (error) {
      if (index > 0 && index < rows.length) position.contended = table as TableLock
      throw error
    }
    locked.push(shown)
  }
  return locked.slice(0, rows.length)
}

/**
 * `CREATE TABLE IF NOT EXISTS` and `CREATE SCHEMA IF NOT EXISTS` do nothing
 * when the object exists, yet PostgreSQL checks the CREATE privilege first: a
 * table owner without CREATE on its schema (PostgreSQL 15's default for
 * `public`) would be stopped by a step that changes nothing. Such a step is
 * left out, as is a `CREATE TYPE ... AS ENUM` whose enum exists (it has no
 * IF NOT EXISTS); the post-apply assertion still checks what exists.
 *
 * @returns why the step is left out, or `null` to run it.
 */
export async function alreadyExists(conn: Kysely<unknown>, step: MigrationStep): Promise<string | null> {
  const target = targetOf(step)
  if (target?.kind === 'creates-table') {
    const { schema, name } = target.table
    const { rows } = await sql<{ present: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = ${schema} AND c.relname = ${name}) AS present`.execute(conn)
    return rows[0]?.present ? `table ${schema}.${name} exists already` : null
  }
  if (target?.kind === 'adds-constraint' || target?.kind === 'adds-foreign-key') {
    // PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS: a re-run after the constraint was added leaves it out.
    const { schema, name } = target.table
    const { rows } = await sql<{ present: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = ${schema} AND c.relname = ${name} AND k.conname = ${target.constraint}) AS present`.execute(conn)
    return rows[0]?.present ? `constraint ${target.constraint} on ${schema}.${name} exists already` : null
  }
  if (target?.kind === 'creates-enum') {
    const { schema, name } = target.type
    const { rows } = await sql<{ present: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                      WHERE n.nspname = ${schema} AND t.typname = ${name} AND t.typtype = 'e') AS present`.execute(conn)
    return rows[0]?.present ? `enum ${schema}.${name} exists already` : null
  }
  if (target?.kind === 'creates-schema') {
    const { rows } = await sql<{ present: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${target.schema}) AS present`.execute(conn)
    return rows[0]?.present ? `schema ${target.schema} exists already` : null
  }
  return null
}

function shorterOf(a: string, b: string): string {
  return durationMs(b) > 0 && durationMs(b) < durationMs(a) ? b : a
}

export function hintFor(error: unknown, position: string, request: ApplyRequest): string | undefined {
  switch (sqlStateOf(error)) {
    case '55P03':
    case '40P01':
      return `another session held a conflicting lock through ${request.lockRetries + 1} attempts of lock_timeout ${request.timeouts.lockTimeout}: find it in pg_stat_activity / pg_locks, or deploy when traffic is lower`
    case '57014':
      if (!position.startsWith('step ')) return bookkeepingHint(error, position)
      return durationMs(request.timeouts.statementTimeout) > 0
        ? `statement_timeout ${request.timeouts.statementTimeout} ended the step: raise SCHEMA_STATEMENT_TIMEOUT (0 means no limit)`
        : 'the step has no statement timeout (SCHEMA_STATEMENT_TIMEOUT is 0), so another session cancelled it (pg_cancel_backend, an operator or a watchdog): find out who, then run schema:apply again'
    case '2BP01':
      return 'other objects depend on what this step replaces or drops (a foreign key referencing a unique constraint): drop or re-point them by hand in a migration of their own, then run schema:apply again'
    case '23502':
      return 'a NOT NULL column without a default cannot be added to a table that has rows: declare a default in schema/, or declare the column nullable, fill it (schema:backfill) and make it NOT NULL in a later migration; then delete this unapplied migration and run schema:plan again'
  }
  if (position === 'COMMIT' && isConnectionLost(error)) {
    return 'the connection was lost at COMMIT, so the migration may or may not have committed: run schema:apply again; it reads the history and re-checks the live schema, and converges either way'
  }
  return hintForDatabaseError(error)
}

/** The fix for a failure of the tool's own statements (history table, migration lock, catalog reads). */
function bookkeepingHint(error: unknown, where: string): string {
  switch (sqlStateOf(error)) {
    case '55P03':
      return `another session holds a lock that ${where} needs (${HISTORY_SCHEMA}.${HISTORY_TABLE}, or a catalog lock); find it in pg_locks / pg_stat_activity, let it finish, and run schema:apply again`
    case '57014':
      return `${where} was cancelled: either its own ${OWN_STATEMENT_TIMEOUT_TEXT} bound passed (the server is overloaded, or a catalog lock is held) or another session cancelled it; run schema:apply again once the server is responsive`
  }
  return hintForDatabaseError(error) ?? 'run schema:apply again; if it fails the same way, the message above names the cause'
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
