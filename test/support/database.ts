import { randomBytes } from 'node:crypto'
import { PGlite, type PGliteOptions } from '@electric-sql/pglite'
import { citext } from '@electric-sql/pglite/contrib/citext'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { inject } from 'vitest'
import { openTarget } from '../../src/target/open.js'
import { PGlitePool } from '../../src/target/pglite-pool.js'
import { createPGlite } from '../../src/target/pglite-template.js'
import { DROP_EVERY_SCHEMA, resetDatabase, SPARE_DATABASES } from './spare-databases.js'
import type { ServerTarget, TargetName } from './targets.js'

/**
 * A fresh, empty database on a target for one test.
 *
 * PostgreSQL: a database of its own on the shared test server, opened through
 * the production `openTarget`: a new one, or one an earlier test left and
 * that was reset to exactly what a new one holds (`spare-databases.ts`). PGlite: one in-memory instance per test file,
 * started from the production template (initdb once per machine, not once
 * per file), wiped back to an empty `public` before each use, driven through
 * the production `PGlitePool`.
 */
export interface TestDatabase {
  readonly db: Kysely<unknown>
  /** `postgres://...` of this database; `null` on PGlite. */
  readonly url: string | null
  /** Runs SQL text that may hold several statements (fixtures only). */
  exec(text: string): Promise<void>
}

export async function withTestDatabase<T>(target: TargetName, run: (database: TestDatabase) => Promise<T>): Promise<T> {
  return target === 'pglite' ? withPGlite(run) : withPostgres(target, run)
}

/** Superuser URL of a database on a test server. */
export function serverUrl(database = 'postgres', server: ServerTarget = 'postgres'): string {
  const base = inject('serverUrls')[server]
  if (!base) throw new Error(`the ${server} test target is off (SCHEMA_TEST_TARGETS)`)
  return `${base}/${database}`
}

/** A new, empty database on a test server (PostgreSQL 18 unless told). */
export async function createDatabase(
  server: ServerTarget = 'postgres',
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`
  await adminQuery(server, `CREATE DATABASE ${name}`)
  return {
    name,
    url: serverUrl(name, server),
    // WITH (FORCE) is PostgreSQL 13+: it ends sessions a failed test left behind.
    drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}),
  }
}

async function adminQuery(server: ServerTarget, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: serverUrl('postgres', server) })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

async function withPostgres<T>(server: ServerTarget, run: (database: TestDatabase) => Promise<T>): Promise<T> {
  const database = (await claimSpareDatabase(server)) ?? (await createDatabase(server))
  const target = await openTarget(
    { kind: 'postgres', url: database.url, display: database.name, password: '' },
    { connectTimeoutMs: 10_000 },
  )
  try {
    return await run({
      db: target.db,
      url: database.url,
      exec: async (text) => {
        const client = new pg.Client({ connectionString: database.url })
        await client.connect()
        try {
          await client.query(text)
        } finally {
          await client.end()
        }
      },
    })
  } finally {
    await target.close()
    if (await resetDatabase(database.url, inject('newDatabaseState')[server]!).catch(() => false)) {
      await adminQuery(server, `INSERT INTO ${SPARE_DATABASES} VALUES ('${database.name}')`)
    } else {
      await database.drop()
    }
  }
}

/** A database an earlier test (in any test file) used and `resetDatabase` emptied, now this caller's alone. */
async function claimSpareDatabase(server: ServerTarget): Promise<{ name: string; url: string; drop(): Promise<void> } | null> {
  const claimed = await adminQuery(
    server,
    `DELETE FROM ${SPARE_DATABASES} WHERE name = (SELECT name FROM ${SPARE_DATABASES} LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING name`,
  )
  const name = claimed[0]?.name as string | undefined
  if (!name) return null
  return { name, url: serverUrl(name, server), drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}) }
}

let shared: Promise<PGlite> | undefined

async function withPGlite<T>(run: (database: TestDatabase) => Promise<T>): Promise<T> {
  // citext: real-world schemas use extension types, which a server ships and PGlite loads on request.
  const withCitext = { create: (options: PGliteOptions = {}) => PGlite.create({ ...options, extensions: { citext } }) }
  shared ??= createPGlite(withCitext as unknown as typeof PGlite, null)
  const pglite = await shared
  await pglite.exec(`${DROP_EVERY_SCHEMA};\nCREATE SCHEMA public;`)
  // The pool's end() would close the shared instance; this Kysely is dropped without destroy().
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) })
  return run({ db, url: null, exec: async (text) => void (await pglite.exec(text)) })
}

/** Row count of a table, for "nothing was lost" checks. */
export async function countRows(db: Kysely<unknown>, table: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(table)}`.execute(db)
  return Number(rows[0]?.n)
}
