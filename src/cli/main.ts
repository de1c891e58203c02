import path from 'node:path'
import { parseArgs } from 'node:util'
import { applyEnvFile, findConfigFile, loadConfig } from '../config/load-config.js'
import { parseAllow } from '../plan/allowance.js'
import { HAZARD_CODES } from '../plan/hazards.js'
import { resolveSettings, type Settings } from '../settings.js'
import { type CommandOptions, type Io, migrationFailedLine, renderError } from './command.js'

/**
 * The command line: parses arguments, resolves settings, dispatches. The
 * command modules wire the stages and print; nothing below `src/cli` prints
 * or exits.
 *
 * Exit codes: 0 success, 1 error, 2 schema mismatch (verify).
 */

const USAGE = `usage: schema <command> [options]

commands:
  plan      introspect the target, diff it with schema/, print the guarded steps,
            write them to generated-migrations/ as a new migration
  apply     apply pending generated migrations with production settings, then
            assert that the live schema matches schema/
  verify    read-only: check the live target against schema/ (exit 2 on mismatch)
  check     CI drift check, offline: replay generated-migrations/ on a fresh embedded
            database; it must yield exactly schema/ (exit 2 on drift)
  backfill  after apply: fill the columns schema/ declares backfills for, in short
            throttled batches by primary key; resumes where it stopped; ends with a check

options:
  --config <file>           the config file (default schema.config.ts, .mts, .js or .mjs here, if any)
  --json                    machine-readable output on stdout (apply, backfill: one JSON event per line)
  --dry-run                 (plan) write nothing
  --allow <codes>           (plan) plan steps with these hazards, comma-separated: ${HAZARD_CODES.join(', ')};
                            <code>:<subject> allows one change (drop-column:call_log.legacy_flag)
  --schema <path>           the module exporting \`schema\` (default schema/index.ts)
  --migrations <dir>        generated migrations (default generated-migrations/)
  --database-url <url>      target database (default $DATABASE_URL; unset: embedded PGlite in .pglite/)
  --lock-timeout <d>        per DDL statement (default $SCHEMA_LOCK_TIMEOUT or 5s)
  --statement-timeout <d>   per DDL statement (default $SCHEMA_STATEMENT_TIMEOUT or 0, no limit)
  --lock-retries <n>        retries after a lock timeout or deadlock (default $SCHEMA_LOCK_RETRIES or 3)
  --lock-wait <d>           (apply) wait for another runner's migration lock (default $SCHEMA_APPLY_LOCK_WAIT or 60s);
                            (backfill) for another runner of the same backfill (default $SCHEMA_BACKFILL_LOCK_WAIT or 10s)
  --connect-timeout <d>     give up connecting after this long (default $SCHEMA_CONNECT_TIMEOUT or 10s)
  --rerun <name>            (backfill) start this backfill again from the beginning, even if finished or changed
  --batch-target <d>        (backfill) the duration each batch aims for (default $SCHEMA_BACKFILL_BATCH_TARGET or 100ms)
  --batch-min <n>           (backfill) fewest rows a batch walks (default $SCHEMA_BACKFILL_BATCH_MIN or 100)
  --batch-max <n>           (backfill) most rows a batch walks (default $SCHEMA_BACKFILL_BATCH_MAX or 50000)
  --batch-pause <d>         (backfill) rest between batches (default $SCHEMA_BACKFILL_PAUSE or 0)
  --max-rate <n>            (backfill) rows filled per second at most (default $SCHEMA_BACKFILL_MAX_RATE or 0, no limit)
  --batch-timeout <d>       (backfill) statement_timeout of each batch (default $SCHEMA_BACKFILL_STATEMENT_TIMEOUT or 10s)`

const COMMANDS = ['plan', 'apply', 'verify', 'check', 'backfill'] as const
type Command = (typeof COMMANDS)[number]

/** How the process entry hands over SIGINT/SIGTERM: `signal` aborts once `arm()` has installed the handlers. */
export interface Signals {
  readonly signal: AbortSignal
  /** Until armed, a signal ends the process at once (Node's default): right while nothing is connected. */
  arm(): void
}

export async function main(argv: readonly string[], io: Io, signals: Signals): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        allow: { type: 'string', multiple: true },
        schema: { type: 'string' },
        migrations: { type: 'string' },
        config: { type: 'string' },
        'database-url': { type: 'string' },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        'lock-retries': { type: 'string' },
        'lock-wait': { type: 'string' },
        'connect-timeout': { type: 'string' },
        rerun: { type: 'string', multiple: true },
        'batch-target': { type: 'string' },
        'batch-min': { type: 'string' },
        'batch-max': { type: 'string' },
        'batch-pause': { type: 'string' },
        'max-rate': { type: 'string' },
        'batch-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`)
    return 1
  }
  const { values, positionals } = parsed
  const command = positionals[0]
  if (values.help) {
    io.out(USAGE)
    return 0
  }
  if (!isCommand(command)) {
    io.err(`${command === undefined ? 'no command given' : `unknown command "${command}"`}\n\n${USAGE}`)
    return 1
  }

  let settings: Settings | undefined
  try {
    const cwd = process.cwd()
    // `.env` beside the config file (or here) first: the config file may read process.env.
    const configFile = findConfigFile(values.config, cwd)
    applyEnvFile(configFile ? path.dirname(configFile) : cwd, process.env)
    settings = resolveSettings({
      env: process.env,
      flags: {
        databaseUrl: values['database-url'],
        lockTimeout: values['lock-timeout'],
        statementTimeout: values['statement-timeout'],
        lockRetries: values['lock-retries'],
        lockWait: values['lock-wait'],
        connectTimeout: values['connect-timeout'],
        schema: values.schema,
        migrations: values.migrations,
        batchTarget: values['batch-target'],
        batchMin: values['batch-min'],
        batchMax: values['batch-max'],
        batchPause: values['batch-pause'],
        maxRate: values['max-rate'],
        batchTimeout: values['batch-timeout'],
      },
      config: configFile ? await loadConfig(configFile) : null,
      cwd,
    })
    const options: CommandOptions = {
      settings,
      json: values.json,
      dryRun: values['dry-run'],
      allow: parseAllow(values.allow ?? []),
      signal: signals.signal,
      armSignals: signals.arm,
    }
    const scrubbed: Io = { out: io.out, err: (text) => io.err(scrub(text, settings)) }
    // Each command loads only what it uses: apply and verify never load ts-morph (and with it the
    // TypeScript compiler) or PGlite, which the production image does not ship.
    switch (command) {
      case 'plan':
        return await (await import('./plan-command.js')).runPlan(options, scrubbed)
      case 'verify':
        return await (await import('./verify-command.js')).runVerify(options, scrubbed)
      case 'check':
        return await (await import('./check-command.js')).runCheck(options, scrubbed)
      case 'apply':
        return await (await import('./apply-command.js')).runApply(options, {
          out: (text) => io.out(scrub(text, settings)),
          err: scrubbed.err,
        })
      case 'backfill':
        return await (await import('./backfill-command.js')).runBackfill(
          options,
          { out: (text) => io.out(scrub(text, settings)), err: scrubbed.err, ...(io.status ? { status: io.status } : {}) },
          values.rerun ?? [],
        )
    }
  } catch (error) {
    // Failures before a command starts (settings, arguments) end an apply run like any other failure.
    const lines = [renderError(command, error), ...(command === 'apply' ? [migrationFailedLine(error)] : [])]
    if (command === 'apply' && values.json) io.out(scrub(JSON.stringify({ event: 'failed', ok: false, message: lines.at(-1) }), settings))
    io.err(scrub(lines.join('\n'), settings))
    return 1
  }
}

/**
 * What to print when the command can never finish: the event loop emptied
 * while a module it loads (the schema, a generated migration) still awaits
 * something that never settles. Node would exit 13 without a word.
 */
export function unsettledLines(argv: readonly string[]): string[] {
  const command = argv.find((arg) => !arg.startsWith('-')) ?? 'command'
  const message = 'a module it loads (the schema module, a generated migration) awaits something that never settles'
  return [
    `schema ${command} failed at the schema stage: ${message}`,
    'fix: remove or fix the top-level await that never resolves in the schema module or what it imports',
    ...(command === 'apply' ? [`MIGRATION FAILED: [schema] ${message}`] : []),
  ]
}

function isCommand(command: string | undefined): command is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(command)
}

/**
 * Last line of defence: no output carries the database password, even if a
 * driver message were to quote it. (Messages never include the URL itself.)
 * A password of under four characters cannot be told apart from ordinary
 * words, so masking it would only garble the message.
 */
function scrub(text: string, settings: Settings | undefined): string {
  const target = settings?.target
  if (target?.kind !== 'postgres') return text
  const { password } = target
  if (password.length < 4) return text
  const mask = (value: string) => value.replaceAll(password, '***').replaceAll(encodeURIComponent(password), '***')
  // The structure is the tool's own and never holds the password: a password that happens to be a
  // word the output uses (`event`, `MIGRATION`) must not garble JSON keys or the last-line marker.
  const json = parseJson(text)
  if (json !== undefined) {
    return JSON.stringify(json, (_key, value: unknown) => (typeof value === 'string' ? mask(value) : value), text.includes('\n') ? 2 : undefined)
  }
  return text
    .split('\n')
    .map((line) => {
      const marker = /^(MIGRATION FAILED: |fix: )/.exec(line)?.[0] ?? ''
      return marker + mask(line.slice(marker.length))
    })
    .join('\n')
}

function parseJson(text: string): unknown {
  if (!text.startsWith('{')) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
