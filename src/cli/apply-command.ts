import { type ApplyEvent, applyMigrations, SchemaMismatchError, StepFailedError } from '../apply/apply.js'
import { withContext } from './context.js'
import { count, sizeText } from './render.js'
import { type CommandOptions, describeError, type Io, migrationFailedLine } from './command.js'

/**
 * `schema:apply`, what the compose `migrate` service runs. Progress goes to
 * stdout as it happens, readable in `docker compose logs migrate`; with
 * `--json`, one JSON object per line. A failure always ends with a line that
 * starts `MIGRATION FAILED`, and no success wording appears anywhere in a
 * failed run: progress lines say what ran and committed, never that all is well.
 */
export async function runApply(options: CommandOptions, io: Io): Promise<number> {
  const emit = (event: object) => io.out(JSON.stringify(event))
  try {
    return await withContext({ ...options, readMigrations: true, handlesSignals: true }, io, async ({ declared, migrations, target }) => {
      if (options.json) emit({ event: 'target', target: target.spec.display })
      else io.out(`schema apply: target ${target.spec.display}`)
      const result = await applyMigrations({
        db: target.db,
        declared,
        migrations,
        timeouts: options.settings.timeouts,
        lockRetries: options.settings.lockRetries,
        lockWaitMs: options.settings.lockWaitMs,
        signal: options.signal,
        pooler: target.pooler,
        cancel: () => target.cancel(),
        disconnect: () => target.disconnect(),
        sideQuery: target.sideQuery,
        onEvent: (event) => (options.json ? emit({ event: event.type, ...withoutType(event) }) : io.out(describeEvent(event))),
      })
      const steps = result.applied.reduce((n, m) => n + m.steps, 0)
      const verified = `live schema verified against schema/: ${sizeText(result.verified)}`
      const summary =
        result.applied.length === 0
          ? `Nothing to apply (${count(result.alreadyApplied, 'migration')} applied before); ${verified}.`
          : `Applied ${count(result.applied.length, 'migration')} (${count(steps, 'step')}): ${result.applied.map((m) => m.name).join(', ')}; ${verified}.`
      if (options.json) emit({ event: 'finished', ok: true, applied: result.applied, verified: result.verified })
      else io.out(summary)
      return 0
    })
  } catch (error) {
    const lines = failureLines(error)
    if (options.json) emit({ event: 'failed', ok: false, ...failureFields(error), message: lines.at(-1) })
    else for (const line of lines) io.err(line)
    return options.signal.aborted ? signalExitCode(options.signal) : 1
  }
}

function describeEvent(event: ApplyEvent): string {
  switch (event.type) {
    case 'lock-waiting':
      return `waiting for the migration lock, held by ${event.holder ?? 'another session'}`
    case 'lock-acquired':
      return `migration lock acquired${event.waitedMs >= 1000 ? ` after ${seconds(event.waitedMs)}` : ''}`
    case 'pending':
      return event.pending.length === 0
        ? `${count(event.applied, 'migration')} applied before; none pending`
        : `${count(event.applied, 'migration')} applied before; ${event.pending.length} pending: ${event.pending.join(', ')}`
    case 'migration-started':
      return event.outsideTransaction
        ? `${event.migration}: ${count(event.steps, 'step')}, step by step (some cannot run in a transaction), each recorded as it completes`
        : `${event.migration}: ${count(event.steps, 'step')} in one transaction${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`
    case 'steps-resumed':
      return `  continuing after the steps an earlier run completed: ${event.done.join(', ')}`
    case 'steps-committed':
      return `  step${event.steps.length === 1 ? '' : 's'} ${event.steps.join(', ')} committed in ${Math.round(event.ms)} ms`
    case 'invalid-index-dropped':
      return event.when === 'before-build'
        ? `  step ${event.step}: dropped the invalid index ${event.index} an interrupted build left, to build it again`
        : `  step ${event.step}: dropped the invalid index ${event.index} the failed build left`
    case 'build-progress':
      return `  step ${event.step}/${event.steps}: ${event.phase}${event.percent === null ? '' : ` ${event.percent}%`} (${seconds(event.elapsedMs)})`
    case 'tables-locked':
      return `  locked ${event.tables.join(', ')} (${Math.round(event.ms)} ms)`
    case 'step-started':
      return `  step ${event.step}/${event.steps}: ${event.sql.replaceAll('\n', '\n      ')}`
    case 'step-ran':
      return `  step ${event.step}/${event.steps} ran in ${Math.round(event.ms)} ms`
    case 'step-skipped':
      return `  step ${event.step}/${event.steps} left out: ${event.reason}, so ${event.sql.split(' (')[0]} would do nothing`
    case 'retrying':
      return `${event.migration}: ${event.step}: ${event.cause} (SQLSTATE ${event.sqlState}); rolled back, retry ${event.retry} of ${event.retries} in ${seconds(event.delayMs)}`
    case 'migration-committed':
      return `${event.migration}: committed in ${Math.round(event.ms)} ms`
    case 'verified':
      return `post-apply check: live schema matches schema/ (${sizeText(event)})`
  }
}

function failureLines(error: unknown): string[] {
  const lines: string[] = []
  if (error instanceof SchemaMismatchError) {
    lines.push('post-apply check: the live schema does not match schema/:')
    for (const m of error.mismatches) lines.push(`  ${m.subject}: ${m.problem}`)
  }
  const { hint } = describeError(error)
  if (hint) lines.push(`fix: ${hint}`)
  lines.push(migrationFailedLine(error))
  return lines
}

function failureFields(error: unknown): object {
  if (error instanceof StepFailedError) {
    return { migration: error.migration, step: error.step, sqlState: error.sqlState, attempts: error.attempts }
  }
  if (error instanceof SchemaMismatchError) return { mismatches: error.mismatches }
  return {}
}

function signalExitCode(signal: AbortSignal): number {
  return signal.reason === 'SIGINT' ? 130 : 143
}

function withoutType({ type: _, ...rest }: ApplyEvent): object {
  return rest
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}
