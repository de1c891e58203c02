import { parseArgs } from 'node:util'
import { parseAllow } from '../plan/allowance.js'
import { HAZARD_CODES } from '../plan/hazards.js'
import { resolveSettings, type Settings } from '../settings.js'
import { type CommandOptions, type Io, renderError } from './command.js'

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

options:
  --json                    machine-readable output on stdout (apply: one JSON event per line)
  --dry-run                 (plan) write nothing
  --allow <codes>           (plan) plan steps with these hazards, comma-separated: ${HAZARD_CODES.join(', ')};
                            <code>:<subject> allows one change (drop-column:call_log.legacy_flag)
  --schema <path>           the module exporting \`schema\` (default schema/index.ts)
  --migrations <dir>        generated migrations (default generated-migrations/)
  --database-url <url>      target database (default $DATABASE_URL; unset: embedded PGlite in .pglite/)
  --lock-timeout <d>        per DDL statement (default $SCHEMA_LOCK_TIMEOUT or 5s)
  --statement-timeout <d>   per DDL statement (default $SCHEMA_STATEMENT_TIMEOUT or 0, no limit)
  --lock-retries <n>        retries after a lock timeout or deadlock (default $SCHEMA_LOCK_RETRIES or 3)
  --lock-wait <d>           (apply) wait for another runner's migration lock (default $SCHEMA_APPLY_LOCK_WAIT or 60s)
  --connect-timeout <d>     give up connecting after this long (default $SCHEMA_CONNECT_TIMEOUT or 10s)`

const COMMANDS = ['plan', 'apply', 'verify', 'check'] as const
type Command = (typeof COMMANDS)[number]

export async function main(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
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
        'database-url': { type: 'string' },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        'lock-retries': { type: 'string' },
        'lock-wait': { type: 'string' },
        'connect-timeout': { type: 'string' },
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
      },
      cwd: process.cwd(),
    })
    const options: CommandOptions = {
      settings,
      json: values.json,
      dryRun: values['dry-run'],
      allow: parseAllow(values.allow ?? []),
      signal,
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
    }
  } catch (error) {
    io.err(scrub(renderError(command, error), settings))
    return 1
  }
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
  const password = decodeURIComponent(new URL(target.url).password)
  if (password.length < 4) return text
  return text.replaceAll(password, '***').replaceAll(encodeURIComponent(password), '***')
}
