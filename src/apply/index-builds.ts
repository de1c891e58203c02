import { type Kysely, sql } from 'kysely'
import type { Timeouts } from '../plan/plan.js'
import { dropIndexConcurrentlySql } from '../plan/render-index-sql.js'
import type { TableName } from './step-targets.js'

/**
 * What apply does around a concurrent index build: the session settings it
 * runs under, the invalid index a failed or cancelled build leaves behind,
 * the duplicates that fail a unique build, and progress while it runs.
 */

/** One query on a short-lived connection of its own (`Target.sideQuery`). */
export type SideQuery = (text: string, values: readonly unknown[]) => Promise<Record<string, unknown>[]>

/** A row of `pg_stat_progress_create_index`, as people read it. */
export interface BuildProgress {
  /** `building index: scanning table`, `waiting for old snapshots`, ... */
  readonly phase: string
  /** Of the current phase, when PostgreSQL counts it (blocks, then tuples). */
  readonly percent: number | null
  readonly elapsedMs: number
}

/** The index a `builds-index` step creates. */
export interface BuiltIndex {
  readonly table: TableName
  readonly index: string
}

/**
 * Runs `run` with session-level timeouts, since a statement outside a
 * transaction has no `SET LOCAL`: the step's lock and statement timeouts, and
 * (PostgreSQL 14+) `client_connection_check_interval`, so that a build whose
 * client died (kill -9, a lost network) is cancelled by the server instead of
 * running on, holding the migration lock. The session's own settings are
 * restored afterwards.
 */
export async function withSessionTimeouts<T>(conn: Kysely<unknown>, timeouts: Timeouts, run: () => Promise<T>): Promise<T> {
  const { rows } = await sql<{ lock: string; statement: string; check: string | null }>`
    SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement,
           current_setting('client_connection_check_interval', true) AS check`.execute(conn)
  const saved = rows[0]
  await setSession(conn, { lock: timeouts.lockTimeout, statement: timeouts.statementTimeout, check: saved?.check == null ? null : '1s' })
  try {
    return await run()
  } finally {
    // A connection that died needs nothing restored; the failure that killed it is the one to report.
    if (saved) await setSession(conn, saved).catch(() => {})
  }
}

async function setSession(conn: Kysely<unknown>, values: { lock: string; statement: string; check: string | null }): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${values.lock}, false), set_config('statement_timeout', ${values.statement}, false),
                   (SELECT set_config(name, ${values.check ?? '0'}, false) FROM pg_catalog.pg_settings
                     WHERE name = 'client_connection_check_interval' AND ${values.check !== null})`.execute(conn)
}

/**
 * Drops `built.index` if it exists and is invalid (`indisvalid = false`), as
 * a failed or cancelled `CREATE INDEX CONCURRENTLY` leaves it: `IF NOT EXISTS`
 * would otherwise skip the build and leave a useless index in its place.
 *
 * @returns whether it dropped one.
 */
export async function dropIfInvalid(conn: Kysely<unknown>, built: BuiltIndex, timeouts: Timeouts): Promise<boolean> {
  const { rows } = await sql<{ invalid: boolean }>`
    SELECT NOT i.indisvalid AS invalid
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${built.table.schema} AND c.relname = ${built.index}`.execute(conn)
  if (!rows[0]?.invalid) return false
  await withSessionTimeouts(conn, timeouts, () => sql.raw(dropIndexConcurrentlySql(built.table.schema, built.index)).execute(conn))
  return true
}

export interface Duplicates {
  /** How many distinct keys occur more than once. */
  readonly keys: number
  /** One of them: `(call_sid)=(CA42) appears 3 times`. */
  readonly example: string
  /** A query that lists them all. */
  readonly query: string
}

/**
 * Counts the keys that made a unique build fail, from the definition of the
 * invalid index it left (so before that index is dropped): the key columns
 * and expressions and the predicate, as PostgreSQL prints them, grouped over
 * the table. NULLs never collide in a unique index and are left out.
 *
 * @returns `null` when the index is gone or has no key to group by.
 */
export async function findDuplicates(conn: Kysely<unknown>, built: BuiltIndex): Promise<Duplicates | null> {
  const { rows } = await sql<{ keys: string[]; predicate: string | null; table: string }>`
    SELECT array(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) AS keys,
           pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
           quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS table
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
      JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${built.table.schema} AND c.relname = ${built.index}`.execute(conn)
  const definition = rows[0]
  if (!definition || definition.keys.length === 0) return null
  // The keys and predicate are PostgreSQL's own rendering of the declared index, valid SQL on this table.
  const keys = definition.keys.map((key) => sql.raw(`(${key})`))
  const filters = [...keys.map((key) => sql`${key} IS NOT NULL`), ...(definition.predicate ? [sql.raw(`(${definition.predicate})`)] : [])]
  const { rows: found } = await sql<{ keys: number; sample: string[] | null; n: number | null }>`
    WITH duplicated AS (
      SELECT ARRAY[${sql.join(keys.map((key) => sql`${key}::text`))}] AS sample, count(*) AS n
        FROM ${sql.id(built.table.schema, built.table.name)}
       WHERE ${sql.join(filters, sql` AND `)}
       GROUP BY ${sql.join(keys)}
      HAVING count(*) > 1)
    SELECT (SELECT count(*) FROM duplicated)::int AS keys,
           (SELECT sample FROM duplicated ORDER BY n DESC, sample LIMIT 1) AS sample,
           (SELECT n FROM duplicated ORDER BY n DESC, sample LIMIT 1)::int AS n`.execute(conn)
  const result = found[0]
  if (!result || result.keys === 0 || !result.sample) return null
  const keyList = definition.keys.join(', ')
  return {
    keys: result.keys,
    example: `(${keyList})=(${result.sample.join(', ')}) appears ${result.n} times`,
    query: `SELECT ${keyList}, count(*) FROM ${definition.table}${definition.predicate ? ` WHERE ${definition.predicate}` : ''} GROUP BY ${keyList} HAVING count(*) > 1`,
  }
}

const PROGRESS_QUERY = `SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
  FROM pg_catalog.pg_stat_progress_create_index WHERE pid = $1`

/**
 * Reports the build running on backend `pid` every `intervalMs`, read from
 * `pg_stat_progress_create_index` on a connection of its own (the build's
 * connection is busy). A failed poll is skipped: watching must never fail
 * the build.
 *
 * @returns a function that stops watching.
 */
export function watchBuild(sideQuery: SideQuery, pid: number, intervalMs: number, report: (progress: BuildProgress) => void): () => void {
  const started = performance.now()
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const poll = async () => {
    try {
      const row = (await sideQuery(PROGRESS_QUERY, [pid]))[0]
      if (row && !stopped) report({ phase: String(row.phase), percent: percentOf(row), elapsedMs: performance.now() - started })
    } catch {
      // The next poll may fare better; the build goes on either way.
    }
    if (!stopped) timer = setTimeout(poll, intervalMs)
  }
  timer = setTimeout(poll, intervalMs)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

function percentOf(row: Record<string, unknown>): number | null {
  for (const [done, total] of [
    ['blocks_done', 'blocks_total'],
    ['tuples_done', 'tuples_total'],
  ] as const) {
    const of = Number(row[total])
    if (of > 0) return Math.min(100, Math.round((Number(row[done]) / of) * 1000) / 10)
  }
  return null
}
