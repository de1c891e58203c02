/**
 * The configuration file an application keeps next to its `package.json`:
 * `schema.config.ts` (or `.mts`, `.js`, `.mjs`), or the file `--config` names.
 *
 * @example
 * ```ts
 * // schema.config.ts
 * import { defineConfig } from 'kysely-schema-migrate'
 *
 * export default defineConfig({
 *   schema: 'db/schema.ts',
 *   migrations: 'db/migrations',
 * })
 * ```
 *
 * Paths are relative to the file itself. Every setting here is the last word
 * before the defaults: a command-line flag or an environment variable
 * (`DATABASE_URL`, `SCHEMA_*`, also from `.env`) wins over it.
 */
export interface SchemaConfig {
  /** The module that exports `schema`. Default `schema/index.ts`. */
  readonly schema?: string
  /** The folder of generated migrations. Default `generated-migrations`. */
  readonly migrations?: string
  /**
   * The target database. `DATABASE_URL` wins over it; prefer the environment
   * for anything with a password.
   */
  readonly databaseUrl?: string
  /**
   * A direct connection for this tool when `databaseUrl` goes through a
   * pooler (as Prisma's `directUrl`); wins over `databaseUrl`.
   * `DATABASE_URL_DIRECT` and `DATABASE_URL` win over it.
   */
  readonly directUrl?: string
  /** Per DDL statement, PostgreSQL's units: `5s`, `500ms`. Default `5s`. */
  readonly lockTimeout?: string
  /** Per DDL statement; `0` for none. Default `0`. */
  readonly statementTimeout?: string
  /** Retries after a lock timeout or deadlock. Default 3. */
  readonly lockRetries?: number
  /** How long `apply` waits for another runner's migration lock. Default `60s`. */
  readonly lockWait?: string
  /** Give up connecting after this long. Default `10s`. */
  readonly connectTimeout?: string
  /** `backfill`: the duration each batch aims for; its size adapts. Default `100ms`. */
  readonly backfillBatchTarget?: string
  /** `backfill`: the fewest rows a batch walks. Default 100. */
  readonly backfillBatchMin?: number
  /** `backfill`: the most rows a batch walks. Default 50000. */
  readonly backfillBatchMax?: number
  /** `backfill`: rest between batches. Default `0`. */
  readonly backfillPause?: string
  /** `backfill`: rows filled per second at most; 0 for no limit. Default 0. */
  readonly backfillMaxRate?: number
  /** `backfill`: statement_timeout of each batch. Default `10s`. */
  readonly backfillStatementTimeout?: string
  /** `backfill`: how long to wait for another runner of the same backfill. Default `10s`. */
  readonly backfillLockWait?: string
}

/** The settings `schema.config.ts` may hold, with the type each must have. */
export const CONFIG_KEYS = {
  schema: 'string',
  migrations: 'string',
  databaseUrl: 'string',
  directUrl: 'string',
  lockTimeout: 'string',
  statementTimeout: 'string',
  lockRetries: 'number',
  lockWait: 'string',
  connectTimeout: 'string',
  backfillBatchTarget: 'string',
  backfillBatchMin: 'number',
  backfillBatchMax: 'number',
  backfillPause: 'string',
  backfillMaxRate: 'number',
  backfillStatementTimeout: 'string',
  backfillLockWait: 'string',
} as const satisfies Record<keyof SchemaConfig, 'string' | 'number'>

/** Types the configuration; returns it unchanged. */
export function defineConfig(config: SchemaConfig): SchemaConfig {
  return config
}
