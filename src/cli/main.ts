import { parseArgs } from 'node:util'
import { MigratorError } from '../errors.js'
import { loadSchema } from '../load-schema.js'
import { HAZARD_CODES, type HazardCode, isHazardCode } from '../plan/hazards.js'
import { compare, planAgainst } from '../pipeline.js'
import { resolveSettings, type Settings } from '../settings.js'
import { openTarget, type Target } from '../target/open.js'
import { planJson, renderPlan, renderVerify, verifyReport } from './render.js'

/**
 * The command line: parses arguments, wires the stages, prints, and owns the
 * exit code. Nothing below this module prints or exits.
 *
 * Exit codes: 0 success, 1 error, 2 schema mismatch (verify).
 */

const EXIT = { ok: 0, error: 1, mismatch: 2 } as const

const USAGE = `usage: schema <command> [options]

commands:
  plan      introspect the target, diff it with schema/, print the guarded steps
  verify    read-only: check the live target against schema/ (exit 2 on mismatch)

options:
  --json                    machine-readable output on stdout
  --dry-run                 (plan) write nothing
  --allow <codes>           (plan) plan steps with these hazards, comma-separated: ${HAZARD_CODES.join(', ')}
  --schema <path>           the module exporting \`schema\` (default schema/index.ts)
  --database-url <url>      target database (default $DATABASE_URL; unset: embedded PGlite in .pglite/)
  --lock-timeout <d>        per DDL statement (default $SCHEMA_LOCK_TIMEOUT or 5s)
  --statement-timeout <d>   per DDL statement (default $SCHEMA_STATEMENT_TIMEOUT or 0, no limit)
  --lock-retries <n>        retries after a lock timeout (default $SCHEMA_LOCK_RETRIES or 3)`

interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
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
        'database-url': { type: 'string' },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        'lock-retries': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`)
    return EXIT.error
  }
  const { values, positionals } = parsed
  const command = positionals[0]
  if (values.help || command === undefined) {
    ;(values.help ? io.out : io.err)(USAGE)
    return values.help ? EXIT.ok : EXIT.error
  }
  if (command !== 'plan' && command !== 'verify') {
    io.err(`unknown command "${command}"\n\n${USAGE}`)
    return EXIT.error
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
        schema: values.schema,
      },
      cwd: process.cwd(),
    })
    const allow = parseAllow(values.allow ?? [])
    const declared = await loadSchema(settings.schemaPath)
    if (settings.target.kind === 'pglite') {
      io.err(`schema: DATABASE_URL is not set; using the ${settings.target.display} (set DATABASE_URL for a real server)`)
    }

    const target = await openTarget(settings.target, { connectTimeoutMs: settings.connectTimeoutMs })
    try {
      return command === 'plan'
        ? await runPlan(target, { declared, settings, allow, json: values.json }, io)
        : await runVerify(target, { declared, json: values.json }, io)
    } finally {
      await target.close()
    }
  } catch (error) {
    io.err(scrub(renderError(command, error), settings))
    return EXIT.error
  }
}

async function runPlan(
  target: Target,
  request: { declared: Awaited<ReturnType<typeof loadSchema>>; settings: Settings; allow: Set<HazardCode>; json: boolean },
  io: Io,
): Promise<number> {
  const { plan } = await planAgainst(target.db, {
    declared: request.declared,
    timeouts: request.settings.timeouts,
    allow: request.allow,
  })
  if (request.json) {
    io.out(JSON.stringify({ target: target.spec.display, ...planJson(plan) }, null, 2))
  } else {
    io.out(`Target: ${target.spec.display}\n`)
    io.out(renderPlan(plan))
  }
  return EXIT.ok
}

async function runVerify(
  target: Target,
  request: { declared: Awaited<ReturnType<typeof loadSchema>>; json: boolean },
  io: Io,
): Promise<number> {
  const { changes } = await compare(target.db, request.declared)
  const report = verifyReport(changes)
  const matches = report.mismatches.length === 0
  if (request.json) {
    io.out(JSON.stringify({ target: target.spec.display, matches, ...report }, null, 2))
  } else {
    const columns = request.declared.tables.reduce((n, t) => n + t.columns.length, 0)
    io.out(`Target: ${target.spec.display}\n`)
    io.out(renderVerify(report, { tables: request.declared.tables.length, columns }))
  }
  return matches ? EXIT.ok : EXIT.mismatch
}

function parseAllow(values: readonly string[]): Set<HazardCode> {
  const codes = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
  const unknown = codes.filter((code) => !isHazardCode(code))
  if (unknown.length > 0) {
    throw new MigratorError('settings', `unknown hazard code ${unknown.map((c) => `"${c}"`).join(', ')} in --allow`, {
      hint: `known codes: ${HAZARD_CODES.join(', ')}`,
    })
  }
  return new Set(codes as HazardCode[])
}

function renderError(command: string, error: unknown): string {
  if (error instanceof MigratorError) {
    const lines = [`schema ${command} failed at the ${error.stage} stage: ${error.message}`]
    if (error.hint) lines.push(`fix: ${error.hint}`)
    return lines.join('\n')
  }
  const sqlState = (error as { code?: unknown }).code
  const detail = error instanceof Error ? error.message : String(error)
  return `schema ${command} failed: ${detail}${typeof sqlState === 'string' ? ` (SQLSTATE ${sqlState})` : ''}`
}

/**
 * Last line of defence: no error output carries the database password, even if
 * a driver message were to quote it. (Messages never include the URL itself.)
 * A password of under four characters cannot be told apart from ordinary words,
 * so masking it would only garble the message.
 */
function scrub(text: string, settings: Settings | undefined): string {
  const target = settings?.target
  if (target?.kind !== 'postgres') return text
  const password = decodeURIComponent(new URL(target.url).password)
  if (password.length < 4) return text
  return text.replaceAll(password, '***').replaceAll(encodeURIComponent(password), '***')
}
