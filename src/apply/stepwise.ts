import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import { HISTORY_SCHEMA, recordApplied } from '../migrations/history.js'
import type { GeneratedMigration, MigrationStep } from '../migrations/migration.js'
import { clearStepProgress, ensureStepProgress, PROGRESS_TABLE, readStepProgress, recordStepsDone } from '../migrations/step-progress.js'
import { isConnectionLost, sqlStateOf } from '../target/database-errors.js'
import {
  type ApplyRequest,
  alreadyExists,
  hintFor,
  InterruptedError,
  messageOf,
  retryable,
  StepFailedError,
  type TransactionUnit,
  waitToRetry,
} from './apply.js'
import { type BuiltIndex, type Duplicates, dropIfInvalid, findDuplicates, watchBuild, withSessionTimeouts } from './index-builds.js'
import { targetOf } from './step-targets.js'
import { explainValidationFailure } from './validation-failures.js'

/**
 * A migration with steps PostgreSQL refuses inside a transaction block
 * (`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`), run step by step:
 *
 * - each such step on its own, under session-level `lock_timeout` and
 *   `statement_timeout` (the configured ones; no statement limit by default,
 *   since a build takes as long as the table is big), recorded as done once
 *   it has run;
 * - each run of the other steps in one transaction, exactly as a whole
 *   migration runs (table locks up front, retries), its progress recorded
 *   inside it; a step marked `ownTransaction` (`VALIDATE CONSTRAINT`) is
 *   such a run by itself, so it never holds a lock an earlier step took;
 * - then the history row, and the progress rows removed, in one transaction.
 *
 * A re-run reads the progress and continues after the last completed step.
 * A concurrent build that fails or is cancelled leaves an invalid index
 * behind: apply drops it (concurrently) right after its own failure, and
 * before building again if an interrupted run left one.
 */
export async function applyStepwise(
  conn: Kysely<unknown>,
  pid: number,
  migration: GeneratedMigration,
  request: ApplyRequest,
  runTransaction: (unit: TransactionUnit) => Promise<void>,
): Promise<void> {
  const started = performance.now()
  const done = await bookkeeping(migration, 'reading its recorded progress', async () => {
    await ensureStepProgress(conn)
    return readStepProgress(conn, migration)
  })
  request.onEvent({ type: 'migration-started', migration: migration.name, steps: migration.steps.length, attempt: 1, outsideTransaction: true })
  if (done.size > 0) request.onEvent({ type: 'steps-resumed', migration: migration.name, done: [...done].map((i) => i + 1) })

  for (const group of stepGroups(migration.steps)) {
    const todo = group.steps.filter((index) => !done.has(index))
    if (todo.length === 0) continue
    if (group.transaction) {
      await runTransaction({
        migration,
        steps: todo,
        recordTable: { schema: HISTORY_SCHEMA, name: PROGRESS_TABLE },
        record: (trx) => recordStepsDone(trx, migration, todo),
        whole: false,
      }).catch(async (error: unknown) => {
        throw await explainValidationFailure(conn, migration, todo, error)
      })
    } else {
      for (const index of todo) await runOnItsOwn(conn, pid, migration, index, request)
    }
  }

  await bookkeeping(migration, 'recording it in the history table', async () => {
    await sql`BEGIN`.execute(conn)
    try {
      await recordApplied(conn, migration, performance.now() - started)
      await clearStepProgress(conn, migration)
      await sql`COMMIT`.execute(conn)
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => {})
      throw error
    }
  })
  request.onEvent({ type: 'migration-committed', migration: migration.name, ms: performance.now() - started, attempts: 1 })
}

/**
 * Consecutive steps that share a transaction; a step that cannot run in one,
 * or must run in one of its own, forms a group of its own.
 */
function stepGroups(steps: readonly MigrationStep[]): { transaction: boolean; alone: boolean; steps: number[] }[] {
  const groups: { transaction: boolean; alone: boolean; steps: number[] }[] = []
  for (const [index, step] of steps.entries()) {
    const transaction = step.transaction !== false
    const alone = !transaction || step.ownTransaction === true
    const last = groups.at(-1)
    if (!alone && last && !last.alone) last.steps.push(index)
    else groups.push({ transaction, alone, steps: [index] })
  }
  return groups
}

async function runOnItsOwn(conn: Kysely<unknown>, pid: number, migration: GeneratedMigration, index: number, request: ApplyRequest): Promise<void> {
  const step = migration.steps[index] as MigrationStep
  const steps = migration.steps.length
  const where = `step ${index + 1}/${steps} (${step.kind} ${step.subject})`
  const target = targetOf(step)
  const built: BuiltIndex | null = target?.kind === 'builds-index' ? { table: target.table, index: target.index } : null
  const event = { migration: migration.name, step: index + 1, steps, sql: step.sql }

  for (let attempt = 1; ; attempt++) {
    let position = where
    try {
      if (request.signal.aborted) throw new InterruptedError(migration.name, `before ${migration.name} ${where}`, 'statement')
      const skip = await alreadyExists(conn, step)
      if (skip) {
        request.onEvent({ type: 'step-skipped', ...event, reason: skip })
      } else {
        if (built) {
          // An interrupted run may have left this index half-built; IF NOT EXISTS would keep that one.
          position = `${where}, dropping the invalid index ${built.index} an earlier build left`
          if (await dropIfInvalid(conn, built, request.timeouts)) {
            request.onEvent({ type: 'invalid-index-dropped', migration: migration.name, step: index + 1, index: built.index, when: 'before-build' })
          }
          position = where
        }
        request.onEvent({ type: 'step-started', ...event })
        const stepStarted = performance.now()
        const stopWatching =
          built && request.sideQuery
            ? watchBuild(request.sideQuery, pid, request.progressIntervalMs ?? 10_000, (progress) =>
                request.onEvent({ type: 'build-progress', migration: migration.name, step: index + 1, steps, ...progress }),
              )
            : () => {}
        try {
          await withSessionTimeouts(conn, request.timeouts, () => sql.raw(step.sql).execute(conn))
        } finally {
          stopWatching()
        }
        request.onEvent({ type: 'step-ran', ...event, subject: step.subject, kind: step.kind, ms: performance.now() - stepStarted })
      }
      position = `${where}, recording it as done`
      await recordStepsDone(conn, migration, [index])
      return
    } catch (error) {
      if (error instanceof MigratorError) throw error
      if (request.signal.aborted) throw new InterruptedError(migration.name, `during ${migration.name} ${position}`, 'statement')
      const sqlState = sqlStateOf(error)
      const duplicates = built && !isConnectionLost(error) ? await cleanUpFailedBuild(conn, built, sqlState, index, migration, request) : null
      if (retryable(error, attempt, request)) {
        await waitToRetry(request, { migration: migration.name, step: position, error, attempt }, () =>
          new InterruptedError(migration.name, `while waiting to retry ${migration.name} ${where}`, 'statement'),
        )
        continue
      }
      if (duplicates) {
        throw new StepFailedError(
          migration.name,
          position,
          sqlState,
          attempt,
          new Error(`${messageOf(error)}: ${duplicates.keys} ${duplicates.keys === 1 ? 'key is' : 'keys are'} duplicated, e.g. ${duplicates.example}`),
          `the table holds duplicates of a key declared unique: remove or merge them (${duplicates.query} lists them), then run schema:apply again. The failed build left no index behind.`,
        )
      }
      throw new StepFailedError(migration.name, position, sqlState, attempt, error, hintFor(error, position, request))
    }
  }
}

/**
 * After a concurrent build failed (not interrupted): counts the duplicates if
 * a unique build found some, then drops the invalid index it left, so that
 * nothing half-built stays on the table.
 */
async function cleanUpFailedBuild(
  conn: Kysely<unknown>,
  built: BuiltIndex,
  sqlState: string | null,
  index: number,
  migration: GeneratedMigration,
  request: ApplyRequest,
): Promise<Duplicates | null> {
  const duplicates = sqlState === '23505' ? await findDuplicates(conn, built).catch(() => null) : null
  const dropped = await dropIfInvalid(conn, built, request.timeouts).catch(() => false)
  if (dropped) request.onEvent({ type: 'invalid-index-dropped', migration: migration.name, step: index + 1, index: built.index, when: 'after-failure' })
  return duplicates
}

/** The tool's own statements for a step-by-step migration; a failure names the migration and what it was doing. */
async function bookkeeping<T>(migration: GeneratedMigration, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof MigratorError) throw error
    throw new StepFailedError(migration.name, what, sqlStateOf(error), 1, error)
  }
}
