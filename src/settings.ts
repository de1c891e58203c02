import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { SchemaConfig } from './config/define-config.js'
import type { LoadedConfig } from './config/load-config.js'
import { parseDatabaseUrl } from './database-url.js'
import { MigratorError } from './errors.js'
import type { Timeouts } from './plan/plan.js'

/**
 * Settings: flags win over environment variables, which win over the config
 * file (`schema.config.ts`), which wins over defaults (GUIDE section 3).
 * Resolved once, validated up front, before anything connects.
 */

export type TargetSpec =
  | {
      readonly kind: 'postgres'
      /** Holds the password: pass to the driver only, never print it. */
      readonly url: string
      /** The URL with its password masked: safe for logs. */
      readonly display: string
      /** The decoded password, so output can be scrubbed of it; `''` when there is none. */
      readonly password: string
    }
  /** `dataDir: null` is an in-memory database, gone when the process ends. */
  | { readonly kind: 'pglite'; readonly dataDir: string | null; readonly display: string }

export interface Settings {
  readonly target: TargetSpec
  readonly timeouts: Timeouts
  /** Retries after a lock timeout (55P03) or deadlock (40P01). */
  readonly lockRetries: number
  /** Milliseconds to wait for a connection before giving up. */
  readonly connectTimeoutMs: number
  /** How long `schema:apply` waits for another runner's migration lock. */
  readonly lockWaitMs: number
  /** The module that exports `schema`. */
  readonly schemaPath: string
  /** Where generated migrations are written and read. */
  readonly migrationsDir: string
  /** The application's folder: the config file's, or the working directory. */
  readonly appDir: string
  /** How `schema:backfill` paces its batches. */
  readonly backfill: BackfillSettings
}

/** `schema:backfill`'s pace; its batches wait for rows at most `timeouts.lockTimeout`, retried `lockRetries` times. */
export interface BackfillSettings {
  /** The duration each batch aims for; the batch size adapts to it. */
  readonly batchTargetMs: number
  /** The fewest and most rows a batch walks. */
  readonly batchMin: number
  readonly batchMax: number
  /** Rest between batches. */
  readonly pauseMs: number
  /** Rows updated per second at most; `null` for no limit. */
  readonly maxRowsPerSecond: number | null
  /** PostgreSQL duration bounding each statement of a batch. */
  readonly statementTimeout: string
  /** How long to wait for another runner's lock on the same backfill. */
  readonly lockWaitMs: number
}

export interface SettingsInput {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly flags: {
    readonly databaseUrl?: string | undefined
    readonly lockTimeout?: string | undefined
    readonly statementTimeout?: string | undefined
    readonly lockRetries?: string | undefined
    readonly lockWait?: string | undefined
    readonly connectTimeout?: string | undefined
    readonly schema?: string | undefined
    readonly migrations?: string | undefined
    readonly batchTarget?: string | undefined
    readonly batchMin?: string | undefined
    readonly batchMax?: string | undefined
    readonly batchPause?: string | undefined
    readonly maxRate?: string | undefined
    readonly batchTimeout?: string | undefined
  }
  /** `schema.config.ts`, if there is one. Its paths are relative to itself. */
  readonly config?: LoadedConfig | null | undefined
  readonly cwd: string
}

/**
 * The bound on the tool's own statements (history table, lock queries,
 * catalog reads), set per session so that a role's, database's or URL's
 * `statement_timeout` cannot cancel them and none of them can hang. DDL runs
 * under the configured timeouts instead.
 */
export const OWN_STATEMENT_TIMEOUT = '60s'

export const DEFAULTS = {
  lockTimeout: '5s',
  statementTimeout: '0',
  lockRetries: 3,
  connectTimeout: '10s',
  lockWait: '60s',
  schemaPath: 'schema/index.ts',
  migrationsDir: 'generated-migrations',
  pgliteDir: '.pglite',
  backfillBatchTarget: '100ms',
  backfillBatchMin: 100,
  backfillBatchMax: 50_000,
  backfillPause: '0',
  backfillStatementTimeout: '10s',
  backfillLockWait: '10s',
} as const

export function resolveSettings({ env, flags, config, cwd }: SettingsInput): Settings {
  const file = config?.values ?? {}
  const appDir = config ? path.dirname(config.file) : cwd
  const lockTimeout = duration(
    'lock timeout',
    flags.lockTimeout ?? env.SCHEMA_LOCK_TIMEOUT ?? file.lockTimeout ?? DEFAULTS.lockTimeout,
    '--lock-timeout / SCHEMA_LOCK_TIMEOUT / lockTimeout',
  )
  const statementTimeout = duration(
    'statement timeout',
    flags.statementTimeout ?? env.SCHEMA_STATEMENT_TIMEOUT ?? file.statementTimeout ?? DEFAULTS.statementTimeout,
    '--statement-timeout / SCHEMA_STATEMENT_TIMEOUT / statementTimeout',
  )
  const retriesText = flags.lockRetries ?? env.SCHEMA_LOCK_RETRIES ?? file.lockRetries
  const lockRetries = retriesText === undefined ? DEFAULTS.lockRetries : Number(retriesText)
  if (!Number.isInteger(lockRetries) || lockRetries < 0 || lockRetries > 20) {
    throw new MigratorError('settings', `lock retries "${retriesText}" is not a whole number from 0 to 20`, {
      hint: 'set --lock-retries, SCHEMA_LOCK_RETRIES or lockRetries to e.g. 3',
    })
  }
  return {
    target: resolveTarget(databaseUrl(flags, env, cwd, config), env.NODE_ENV, appDir),
    timeouts: { lockTimeout, statementTimeout },
    lockRetries,
    connectTimeoutMs: durationMs(
      duration(
        'connect timeout',
        flags.connectTimeout ?? env.SCHEMA_CONNECT_TIMEOUT ?? file.connectTimeout ?? DEFAULTS.connectTimeout,
        '--connect-timeout / SCHEMA_CONNECT_TIMEOUT / connectTimeout',
      ),
    ),
    lockWaitMs: durationMs(
      duration(
        'migration lock wait',
        flags.lockWait ?? env.SCHEMA_APPLY_LOCK_WAIT ?? file.lockWait ?? DEFAULTS.lockWait,
        '--lock-wait / SCHEMA_APPLY_LOCK_WAIT / lockWait',
      ),
    ),
    schemaPath: pathSetting(flags.schema, env.SCHEMA_MODULE, file.schema, DEFAULTS.schemaPath),
    migrationsDir: pathSetting(flags.migrations, env.SCHEMA_MIGRATIONS_DIR, file.migrations, DEFAULTS.migrationsDir),
    appDir,
    backfill: resolveBackfillSettings(flags, env, file),
  }

  /** Flag and environment paths are relative to the working directory; the config file's and the defaults to the application. */
  function pathSetting(flag: string | undefined, fromEnv: string | undefined, fromConfig: string | undefined, fallback: string): string {
    if (flag !== undefined) return path.resolve(cwd, flag)
    if (fromEnv) return path.resolve(cwd, fromEnv)
    return path.resolve(appDir, fromConfig ?? fallback)
  }
}

function resolveBackfillSettings(flags: SettingsInput['flags'], env: SettingsInput['env'], file: SchemaConfig): BackfillSettings {
  const batchMin = wholeNumber('backfill batch minimum', flags.batchMin ?? env.SCHEMA_BACKFILL_BATCH_MIN ?? file.backfillBatchMin?.toString(), DEFAULTS.backfillBatchMin, '--batch-min / SCHEMA_BACKFILL_BATCH_MIN / backfillBatchMin')
  const batchMax = wholeNumber('backfill batch maximum', flags.batchMax ?? env.SCHEMA_BACKFILL_BATCH_MAX ?? file.backfillBatchMax?.toString(), DEFAULTS.backfillBatchMax, '--batch-max / SCHEMA_BACKFILL_BATCH_MAX / backfillBatchMax')
  if (batchMin < 1 || batchMax < batchMin) {
    throw new MigratorError('settings', `backfill batch sizes ${batchMin} to ${batchMax} are not a range of at least one row`, {
      hint: 'set --batch-min / SCHEMA_BACKFILL_BATCH_MIN to 1 or more and --batch-max / SCHEMA_BACKFILL_BATCH_MAX to at least that',
    })
  }
  const maxRate = wholeNumber('backfill rate limit', flags.maxRate ?? env.SCHEMA_BACKFILL_MAX_RATE ?? file.backfillMaxRate?.toString(), 0, '--max-rate / SCHEMA_BACKFILL_MAX_RATE / backfillMaxRate')
  const targetMs = durationMs(duration('backfill batch target', flags.batchTarget ?? env.SCHEMA_BACKFILL_BATCH_TARGET ?? file.backfillBatchTarget ?? DEFAULTS.backfillBatchTarget, '--batch-target / SCHEMA_BACKFILL_BATCH_TARGET / backfillBatchTarget'))
  if (targetMs === 0) {
    throw new MigratorError('settings', 'backfill batch target is 0', { hint: 'set --batch-target / SCHEMA_BACKFILL_BATCH_TARGET to e.g. 100ms' })
  }
  return {
    batchTargetMs: targetMs,
    batchMin,
    batchMax,
    pauseMs: durationMs(duration('backfill pause', flags.batchPause ?? env.SCHEMA_BACKFILL_PAUSE ?? file.backfillPause ?? DEFAULTS.backfillPause, '--batch-pause / SCHEMA_BACKFILL_PAUSE / backfillPause')),
    maxRowsPerSecond: maxRate === 0 ? null : maxRate,
    statementTimeout: duration(
      'backfill statement timeout',
      flags.batchTimeout ?? env.SCHEMA_BACKFILL_STATEMENT_TIMEOUT ?? file.backfillStatementTimeout ?? DEFAULTS.backfillStatementTimeout,
      '--batch-timeout / SCHEMA_BACKFILL_STATEMENT_TIMEOUT / backfillStatementTimeout',
    ),
    lockWaitMs: durationMs(duration('backfill lock wait', flags.lockWait ?? env.SCHEMA_BACKFILL_LOCK_WAIT ?? file.backfillLockWait ?? DEFAULTS.backfillLockWait, '--lock-wait / SCHEMA_BACKFILL_LOCK_WAIT / backfillLockWait')),
  }
}

/** A count setting: digits only (`1e3` and `-1` are refused), at most 10,000,000. */
function wholeNumber(what: string, text: string | undefined, fallback: number, where: string): number {
  if (text === undefined) return fallback
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || value > 10_000_000) {
    throw new MigratorError('settings', `${what} "${text}" is not a whole number from 0 to 10000000`, { hint: `set ${where} to e.g. ${fallback || 1000}` })
  }
  return value
}

interface UrlSource {
  readonly text: string | undefined
  /** How the user names where it came from, for messages. */
  readonly source: string
}

/**
 * The database URL and where it came from: `--database-url`, then
 * `DATABASE_URL_DIRECT` (a direct connection for migrations when the
 * application's `DATABASE_URL` goes through a pooler, as Prisma's `directUrl`),
 * then `DATABASE_URL` or the contents of the file `DATABASE_URL_FILE` names (a
 * Docker or Kubernetes secret, so the password never sits in the environment).
 */
function databaseUrl(flags: SettingsInput['flags'], env: SettingsInput['env'], cwd: string, config: LoadedConfig | null | undefined): UrlSource {
  if (flags.databaseUrl !== undefined) return { text: flags.databaseUrl, source: '--database-url' }
  if (env.DATABASE_URL_DIRECT) return { text: env.DATABASE_URL_DIRECT, source: 'DATABASE_URL_DIRECT' }
  const file = env.DATABASE_URL_FILE
  if (!file) {
    if (env.DATABASE_URL) return { text: env.DATABASE_URL, source: 'DATABASE_URL' }
    const configFile = config ? path.basename(config.file) : 'the config file'
    if (config?.values.directUrl) return { text: config.values.directUrl, source: `directUrl in ${configFile}` }
    return { text: config?.values.databaseUrl, source: `databaseUrl in ${configFile}` }
  }
  if (env.DATABASE_URL) {
    throw new MigratorError('settings', 'both DATABASE_URL and DATABASE_URL_FILE are set', {
      hint: 'set only one: DATABASE_URL_FILE for a secret file, DATABASE_URL otherwise',
    })
  }
  try {
    return { text: readFileSync(path.resolve(cwd, file), 'utf8').trim(), source: `the file DATABASE_URL_FILE names (${file})` }
  } catch (error) {
    throw new MigratorError('settings', `cannot read DATABASE_URL_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      hint: 'mount the secret at that path, or set DATABASE_URL instead',
    })
  }
}

function resolveTarget({ text, source }: UrlSource, nodeEnv: string | undefined, cwd: string): TargetSpec {
  if (text === undefined || text.trim() === '') {
    if (nodeEnv === 'production') {
      throw new MigratorError('settings', 'DATABASE_URL is not set and NODE_ENV=production', {
        hint: 'set DATABASE_URL=postgres://user:password@host:5432/db; the embedded database is for development only and is never used in production',
      })
    }
    const dataDir = path.resolve(cwd, DEFAULTS.pgliteDir)
    return { kind: 'pglite', dataDir, display: `embedded PGlite database in ${path.relative(cwd, dataDir) || '.'}/` }
  }
  return { kind: 'postgres', ...parseDatabaseUrl(text, source) }
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }

/** Milliseconds of a duration `duration()` accepted. */
export function durationMs(text: string): number {
  const [, amount = '0', unit = 'ms'] = /^(\d+)(ms|s|min|h)?$/.exec(text) ?? []
  return Number(amount) * (UNIT_MS[unit] ?? 1)
}

/** PostgreSQL accepts `0`, `500ms`, `5s`, `2min`, `1h`; a bare number is milliseconds. */
function duration(what: string, text: string, where: string): string {
  const trimmed = text.trim()
  if (!/^\d+\s*(ms|s|min|h)?$/.test(trimmed)) {
    throw new MigratorError('settings', `${what} "${text}" is not a duration`, {
      hint: `set ${where} (flag, environment, config file) to e.g. 5s, 500ms, 2min or 0 (no limit)`,
    })
  }
  return trimmed.replace(/\s+/g, '')
}
