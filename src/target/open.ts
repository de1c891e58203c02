import { mkdir } from 'node:fs/promises'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import type * as PG from 'pg'
import pg from './node-postgres.js'
import { MigratorError } from '../errors.js'
import type { TargetSpec } from '../settings.js'
import { sendCancelRequest, dropConnection } from './cancel-request.js'
import { connectHint, describeConnectError, hintForDatabaseError, sqlStateOf, sqlStateSuffix } from './database-errors.js'
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
   * Set when a connection pooler (PgBouncer, Odyssey, a managed pooler) stands
   * between the tool and PostgreSQL: the connection's cancel key names another
   * process than the backend that runs its statements. Session state (a
   * session advisory lock, `SET`, a cancel by backend pid) is then shared
   * with, or lost to, other clients of the pooler.
   */
  readonly pooler: PoolerEvidence | null
  /**
   * Cancels the statement the tool's connection is running, with the
   * connection's own cancel key (see `sendCancelRequest`); its transaction
   * then rolls back. A no-op on PGlite, which runs in this process and cannot
   * be interrupted mid-statement.
   */
  cancel(): Promise<void>
  /** Drops the tool's connection at once, for when a cancel cannot reach the server. */
  disconnect(): void
  /**
   * Runs one read-only query on a short-lived connection of its own, to watch
   * a statement the pinned connection is running (an index build's progress).
   * `null` on PGlite, which has one connection.
   */
  readonly sideQuery: ((text: string, values: readonly unknown[]) => Promise<Record<string, unknown>[]>) | null
  close(): Promise<void>
}

export interface PoolerEvidence {
  /** The process id in the cancel key the connection was given. */
  readonly cancelKeyPid: number
  /** `pg_backend_pid()`: the server process that ran the probe. */
  readonly backendPid: number
}

/** Session settings that bound the tool's own statements, whatever the role, database or URL set. */
export interface OwnStatementTimeouts {
  readonly lockTimeout: string
  readonly statementTimeout: string
}

export interface OpenOptions {
  readonly connectTimeoutMs: number
  /** Applied to every connection to a server reached directly (never through a pooler, whose sessions are shared). */
  readonly ownTimeouts?: OwnStatementTimeouts
  /** Shown in `pg_stat_activity.application_name`, so a DBA can tell who holds a lock. */
  readonly applicationName?: string
  /**
   * Gives up a connection attempt still under way (a read-only command that opened the target
   * while the schema loaded, and the schema failed): its socket is dropped at once, rather than
   * the command waiting for a silent server's connect timeout.
   */
  readonly signal?: AbortSignal
}

/**
 * Opens the target and proves it answers: a bad URL, a refused or silent
 * server and a wrong password all fail here, before any DDL.
 */
export async function openTarget(spec: TargetSpec, options: OpenOptions): Promise<Target> {
  return spec.kind === 'postgres' ? openPostgres(spec, options) : openPGlite(spec)
}

async function openPostgres(spec: Extract<TargetSpec, { kind: 'postgres' }>, options: OpenOptions): Promise<Target> {
  const attempts = new Set<PG.Client>()
  const pool = new pg.Pool({
    connectionString: spec.url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName ?? 'schema-migrate',
    max: 1,
    // The client notices a silent network too, not only the server (see sessionSettings).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // An idle connection does not hold the process: a module that never settles is reported when the
    // event loop empties (bin.ts), also after a read-only command connected early.
    allowExitOnIdle: true,
    Client: class extends pg.Client {
      constructor(config?: string | PG.ClientConfig) {
        super(config)
        attempts.add(this)
      }
    },
  })
  // An idle client whose server went away emits 'error'; without a listener node exits. The next query reports it.
  pool.on('error', () => {})
  // Until the target is open, an abort (a signal, a read-only command giving up) drops every socket.
  const giveUp = () => attempts.forEach(dropConnection)
  options.signal?.addEventListener('abort', giveUp, { once: true })
  const interrupted = (error: unknown) =>
    new MigratorError('connect', `connecting to ${spec.display} was interrupted (${String(options.signal?.reason ?? 'aborted')}); nothing was sent that changes it`, {
      hint: 'run the command again',
      cause: error,
    })
  let client: PG.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    options.signal?.removeEventListener('abort', giveUp)
    await pool.end().catch(() => {})
    if (options.signal?.aborted) throw interrupted(error)
    throw new MigratorError('connect', `cannot connect to ${spec.display}: ${describeConnectError(error)}`, {
      hint: connectHint(error),
      cause: error,
    })
  }
  // Dropped below on a silent server or an abort: the failed query says so, the event must not crash.
  if (client.listenerCount('error') === 0) client.on('error', () => {})
  // A server (or a pooler) that accepted the login but then answers nothing: the set-up counts
  // against the connect timeout, as the login did (0: no limit, for both).
  let silent = false
  const setupTimer =
    options.connectTimeoutMs > 0
      ? setTimeout(() => {
          silent = true
          dropConnection(client)
        }, options.connectTimeoutMs)
      : undefined
  let pooler: PoolerEvidence | null
  let statementPool: SingleStatementPool
  try {
    pooler = await detectPooler(client)
    statementPool = new SingleStatementPool(pool, pooler === null && options.ownTimeouts ? options.ownTimeouts : null)
    // The session is set up now rather than before the first query, which is then sent at once.
    await statementPool.prepare(client)
    client.release()
  } catch (error) {
    client.release(true)
    await pool.end().catch(() => {})
    if (options.signal?.aborted) throw interrupted(error)
    if (silent) {
      throw new MigratorError('connect', `connected to ${spec.display}, but it did not answer the session set-up within ${seconds(options.connectTimeoutMs)}`, {
        hint: 'the server or a pooler in front of it accepted the login and then went silent (a pooler with no free server connection waits until its query_wait_timeout): check its load, or raise SCHEMA_CONNECT_TIMEOUT',
        cause: error,
      })
    }
    throw new MigratorError('connect', `connected to ${spec.display}, but setting up the session failed: ${errorText(error)}${sqlStateSuffix(error)}`, {
      hint: sessionSetupHint(error),
      cause: error,
    })
  } finally {
    clearTimeout(setupTimer)
    options.signal?.removeEventListener('abort', giveUp)
  }
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: statementPool }) })
  const cancel = async () => {
    await Promise.all(statementPool.checkedOut().map((client) => sendCancelRequest(client, options.connectTimeoutMs)))
  }
  const disconnect = () => statementPool.checkedOut().forEach(dropConnection)
  const sideQuery = async (text: string, values: readonly unknown[]) => {
    const client = new pg.Client({
      connectionString: spec.url,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: `${options.applicationName ?? 'schema-migrate'} (watching)`,
      statement_timeout: 5_000,
    })
    client.on('error', () => {})
    try {
      await client.connect()
      return (await client.query({ text, values: [...values] })).rows as Record<string, unknown>[]
    } finally {
      await client.end().catch(() => {})
    }
  }
  const close = async () => {
    await db.destroy()
    // Kysely ends the pool only if it ever used it; a run refused before its first query did not,
    // and the idle probe connection would then hold the process open.
    if (!(pool as PG.Pool & { ended?: boolean }).ended) await pool.end()
  }
  return { db, spec, pooler, cancel, disconnect, sideQuery, close }
}

/**
 * PostgreSQL gives each connection a cancel key holding its backend's process
 * id; a pooler hands its clients keys of its own, since the backend behind a
 * client changes. A key that does not name the backend running the query is
 * proof of a pooler in between. (A connection without a key cannot be
 * cancelled by anyone and proves nothing either way.)
 */
async function detectPooler(client: PG.PoolClient): Promise<PoolerEvidence | null> {
  const cancelKeyPid = (client as unknown as { processID?: number | null }).processID
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const backendPid = Number(rows[0]?.pid)
  if (typeof cancelKeyPid !== 'number' || cancelKeyPid === backendPid) return null
  return { cancelKeyPid, backendPid }
}

/**
 * The session the tool works in, whatever the role, the database or the URL
 * set: its own statements bounded, nothing that ends it from outside while it
 * works, DDL text read the one way `schema:plan` wrote it, and a vanished
 * client noticed by the server, which then rolls back and frees its locks.
 */
function sessionSettings(own: OwnStatementTimeouts): Record<string, string> {
  return {
    lock_timeout: own.lockTimeout,
    statement_timeout: own.statementTimeout,
    // PostgreSQL 17+ and 14+: would end a long migration, or the session between retries.
    transaction_timeout: '0',
    idle_session_timeout: '0',
    // The tool never idles inside a transaction; if it does, it is gone, and its locks must not stay.
    idle_in_transaction_session_timeout: '10s',
    // PostgreSQL 14+: a long statement (a lock wait, an index build) ends if the client has gone;
    // keepalives make a silent network count as gone within about 25 s.
    client_connection_check_interval: '5s',
    tcp_keepalives_idle: '10',
    tcp_keepalives_interval: '5',
    tcp_keepalives_count: '3',
    // `'C:\new'` in a default means what it says only with standard strings; dates and intervals
    // in defaults are written and read back in PostgreSQL's default styles.
    standard_conforming_strings: 'on',
    DateStyle: 'ISO, MDY',
    IntervalStyle: 'postgres',
  }
}

/**
 * node-postgres sends a query without parameters over the simple protocol,
 * which runs any number of `;`-separated statements. Every query here goes
 * over the extended protocol instead, which runs exactly one: a declared
 * default or name can never smuggle in a second statement.
 */
class SingleStatementPool implements PostgresPool {
  readonly #pool: PG.Pool
  readonly #ownTimeouts: OwnStatementTimeouts | null
  readonly #prepared = new WeakSet<PG.PoolClient>()
  readonly #checkedOut = new Set<PG.PoolClient>()

  constructor(pool: PG.Pool, ownTimeouts: OwnStatementTimeouts | null) {
    this.#pool = pool
    this.#ownTimeouts = ownTimeouts
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect()
    // A checked-out client whose backend dies (pg_terminate_backend, server shutdown) emits 'error'
    // besides failing its query; unheard, that event would crash the process instead of the query
    // failing with its SQLSTATE. The pool only listens on idle clients.
    if (client.listenerCount('error') === 0) client.on('error', () => {})
    try {
      await this.prepare(client)
    } catch (error) {
      client.release(true)
      throw error
    }
    this.#checkedOut.add(client)
    return {
      query: ((text: unknown, values?: readonly unknown[]) => {
        if (typeof text !== 'string') return client.query(text as PG.Submittable) // a cursor (streamQuery)
        // `queryMode` exists since pg 8.12; @types/pg does not list it yet.
        const config = { text, values: values ? [...values] : [], queryMode: 'extended' }
        return client.query(config as PG.QueryConfig)
      }) as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => {
        this.#checkedOut.delete(client)
        client.release(destroy)
      },
    }
  }

  /**
   * The tool's session settings on `client`, once per connection (a pool may
   * replace one that went idle). Session-level, so they outrank a role's, a
   * database's or the URL's settings; transaction-local settings (a
   * migration's DDL timeouts) still override them inside each transaction.
   * Settings an older server lacks are left out.
   */
  async prepare(client: PG.PoolClient): Promise<void> {
    if (!this.#ownTimeouts || this.#prepared.has(client)) return
    const settings = sessionSettings(this.#ownTimeouts)
    await client.query({
      text: `SELECT set_config(v.name, v.value, false)
               FROM unnest($1::text[], $2::text[]) AS v(name, value)
              WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_settings s WHERE s.name = v.name)`,
      values: [Object.keys(settings), Object.values(settings)],
    })
    this.#prepared.add(client)
  }

  /** The connections in use now: what a cancel or a disconnect acts on. */
  checkedOut(): PG.PoolClient[] {
    return [...this.#checkedOut]
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
  return { db, spec, pooler: null, cancel: async () => {}, disconnect: () => {}, sideQuery: null, close: () => db.destroy() }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}

/** The tool's first statements ran under the role's, the database's and the URL's settings, which it had not yet replaced. */
function sessionSetupHint(error: unknown): string {
  if (sqlStateOf(error) === '57014') {
    return 'the session set-up itself was cancelled: by a statement_timeout set on the role, the database or in DATABASE_URL (ALTER ROLE name SET statement_timeout = 0 lifts the role\'s; the tool sets its own limits once connected), or by an operator: run the command again'
  }
  return hintForDatabaseError(error) ?? 'run the command again; if it fails the same way, report it with this output'
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
