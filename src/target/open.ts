import { mkdir } from 'node:fs/promises'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import { MigratorError } from '../errors.js'
import type { TargetSpec } from '../settings.js'
import { connectHint, describeConnectError } from './database-errors.js'
import { PGlitePool } from './pglite-pool.js'
import { createPGlite } from './pglite-template.js'

/**
 * Opening the target database: a real PostgreSQL through node-postgres, or
 * the embedded PGlite on disk. Both come back as a Kysely instance on the same
 * `PostgresDialect`, so everything above this module runs one code path.
 */

export interface Target {
  readonly db: Kysely<unknown>
  readonly spec: TargetSpec
  /**
   * Cancels whatever statement the backend `pid` is running, from a separate
   * connection (as psql's Ctrl-C does); its transaction then rolls back.
   * A no-op on PGlite, which runs in this process and cannot be interrupted mid-statement.
   */
  cancelBackend(pid: number): Promise<void>
  close(): Promise<void>
}

export interface OpenOptions {
  readonly connectTimeoutMs: number
  /** Shown in `pg_stat_activity.application_name`, so a DBA can tell who holds a lock. */
  readonly applicationName?: string
}

/**
 * Opens the target and proves it answers: a bad URL, a refused or silent
 * server and a wrong password all fail here, before any DDL.
 */
export async function openTarget(spec: TargetSpec, options: OpenOptions): Promise<Target> {
  return spec.kind === 'postgres' ? openPostgres(spec, options) : openPGlite(spec)
}

async function openPostgres(spec: Extract<TargetSpec, { kind: 'postgres' }>, options: OpenOptions): Promise<Target> {
  const pool = new pg.Pool({
    connectionString: spec.url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName ?? 'schema-migrate',
    max: 1,
  })
  // An idle client whose server went away emits 'error'; without a listener node exits. The next query reports it.
  pool.on('error', () => {})
  try {
    const client = await pool.connect()
    client.release()
  } catch (error) {
    await pool.end().catch(() => {})
    throw new MigratorError('connect', `cannot connect to ${spec.display}: ${describeConnectError(error)}`, {
      hint: connectHint(error),
      cause: error,
    })
  }
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new SingleStatementPool(pool) }) })
  const cancelBackend = async (pid: number) => {
    const client = new pg.Client({ connectionString: spec.url, connectionTimeoutMillis: options.connectTimeoutMs })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query({ text: 'SELECT pg_cancel_backend($1)', values: [pid] })
    } finally {
      await client.end().catch(() => {})
    }
  }
  return { db, spec, cancelBackend, close: () => db.destroy() }
}

/**
 * node-postgres sends a query without parameters over the simple protocol,
 * which runs any number of `;`-separated statements. Every query here goes
 * over the extended protocol instead, which runs exactly one: a declared
 * default or name can never smuggle in a second statement.
 */
class SingleStatementPool implements PostgresPool {
  readonly #pool: pg.Pool

  constructor(pool: pg.Pool) {
    this.#pool = pool
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect()
    // A checked-out client whose backend dies (pg_terminate_backend, server shutdown) emits 'error'
    // besides failing its query; unheard, that event would crash the process instead of the query
    // failing with its SQLSTATE. The pool only listens on idle clients.
    if (client.listenerCount('error') === 0) client.on('error', () => {})
    return {
      query: ((text: unknown, values?: readonly unknown[]) => {
        if (typeof text !== 'string') return client.query(text as pg.Submittable) // a cursor (streamQuery)
        // `queryMode` exists since pg 8.12; @types/pg does not list it yet.
        const config = { text, values: values ? [...values] : [], queryMode: 'extended' }
        return client.query(config as pg.QueryConfig)
      }) as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    }
  }

  end(): Promise<void> {
    return this.#pool.end()
  }
}

async function openPGlite(spec: Extract<TargetSpec, { kind: 'pglite' }>): Promise<Target> {
  let PGlite
  try {
    // Loaded on demand: a development dependency, absent from the production image, whose
    // WebAssembly costs start-up time that PostgreSQL targets never need.
    ;({ PGlite } = await import('@electric-sql/pglite'))
  } catch (error) {
    throw new MigratorError('connect', 'the embedded database (@electric-sql/pglite) is not installed', {
      hint: 'set DATABASE_URL to use a PostgreSQL server, or install the development dependencies (npm install)',
      cause: error,
    })
  }
  let pglite
  try {
    if (spec.dataDir !== null) await mkdir(spec.dataDir, { recursive: true })
    pglite = await createPGlite(PGlite, spec.dataDir)
  } catch (error) {
    throw new MigratorError('connect', `cannot open the ${spec.display}: ${errorText(error)}`, {
      hint:
        spec.dataDir === null
          ? 'the embedded database failed to start in memory: reinstall dependencies with npm ci'
          : `check that ${spec.dataDir} is writable, or set DATABASE_URL to use a PostgreSQL server`,
      cause: error,
    })
  }
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) })
  return { db, spec, cancelBackend: async () => {}, close: () => db.destroy() }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
