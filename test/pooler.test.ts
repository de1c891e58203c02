import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { runCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { findPgBouncer, type PgBouncer, type PoolMode, startPgBouncer } from './support/pgbouncer.js'
import { query } from './support/sessions.js'
import { enabledTargets } from './support/targets.js'

/**
 * schema:apply behind a real PgBouncer. In transaction and statement pooling
 * a client's "session" is whichever server connection the pooler hands out
 * for the moment, so a session advisory lock, a session setting or a cancel
 * by backend pid lands on some other client's session. apply detects the
 * pooler (the connection's cancel key does not name the backend that runs its
 * statements) and refuses before anything runs, naming the fix; with
 * DATABASE_URL_DIRECT it connects directly and applies.
 */

const found = enabledTargets().includes('postgres') ? await findPgBouncer() : { missing: 'the postgres test target is off' }
if ('missing' in found) console.warn(`test/pooler.test.ts skipped: ${found.missing}`)

const POOLER_REFUSAL =
  /^MIGRATION FAILED: \[connect\] the database URL reaches PostgreSQL through a connection pooler \(PgBouncer or similar\): the connection's cancel key does not name the backend \(pid \d+\) that ran its statements/m

describe.skipIf('missing' in found)('behind PgBouncer', () => {
  const poolers: Partial<Record<PoolMode, PgBouncer>> = {}
  let database: Awaited<ReturnType<typeof createDatabase>>

  beforeAll(async () => {
    if (!('binary' in found)) return
    const server = inject('serverUrls').postgres as string
    for (const mode of ['transaction', 'statement'] as const) poolers[mode] = await startPgBouncer(found.binary, server, mode)
  }, 180_000)
  afterAll(async () => {
    await Promise.all(Object.values(poolers).map((pooler) => pooler.stop()))
  })
  beforeEach(async () => {
    database = await createDatabase()
    await query(database.url, pre109(100))
  })
  afterEach(async () => {
    await database.drop()
  })

  const pooledUrl = (mode: PoolMode) => `${poolers[mode]?.baseUrl}/${database.name}`

  /** Advisory locks on this test's database: other files' tests hold theirs on the same server meanwhile. */
  const ADVISORY_LOCKS_HERE = `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                                 WHERE l.locktype = 'advisory' AND d.datname = current_database()`

  /** Nothing applied, no history table, and no advisory lock left on any session. */
  async function expectUntouched() {
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    expect(await query(database.url, `SELECT to_regclass('schema_migrate.applied_migrations') AS t`)).toEqual([{ t: null }])
    expect(await query(database.url, ADVISORY_LOCKS_HERE)).toEqual([])
  }

  it('transaction pooling: five runners at once all refuse before anything runs, naming the pooler and DATABASE_URL_DIRECT', async () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: pooledUrl('transaction') }
    const results = await Promise.all(Array.from({ length: 5 }, () => runCli(['apply'], { env })))
    for (const result of results) {
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(POOLER_REFUSAL)
      expect(result.stderr).toMatch(/^fix: set DATABASE_URL_DIRECT to a direct connection to the server/m)
      expect(result.stdout).not.toMatch(/step|committed|Applied/)
    }
    await expectUntouched()
  })

  it('statement pooling: refused the same way, before any BEGIN', async () => {
    const result = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: pooledUrl('statement') } })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(POOLER_REFUSAL)
    expect(result.stderr).not.toContain('08P01')
    await expectUntouched()
  })

  it('with DATABASE_URL_DIRECT beside the pooled DATABASE_URL, apply connects directly and applies', async () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: pooledUrl('transaction'), DATABASE_URL_DIRECT: database.url }
    const result = await runCli(['apply'], { env })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
    expect(await query(database.url, ADVISORY_LOCKS_HERE)).toEqual([])
  })

  it('read-only verify works through a transaction pooler, and sets nothing on the shared server sessions', async () => {
    const result = await runCli(['verify'], { env: { DATABASE_URL: pooledUrl('transaction') } })
    expect(result.code).toBe(2) // the 109 columns are missing: a mismatch, reported
    expect(result.stdout).toContain('call_log.started_at')
    // A session setting made through the pooler would stay on a server connection other clients get next.
    const settings = await query<{ statement_timeout: string }>(pooledUrl('transaction'), 'SHOW statement_timeout')
    expect(settings).toEqual([{ statement_timeout: '0' }])
  })

  it('verify through statement pooling, with indexes to compare: refused clearly, since the comparison needs a transaction', async () => {
    expect((await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } })).code).toBe(0)
    const result = await runCli(['verify'], { env: { DATABASE_URL: pooledUrl('statement') } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('failed at the introspect stage: comparing index definitions needs a transaction, which the server or a pooler in between refused')
    expect(result.stderr).toMatch(/^fix: connect directly \(DATABASE_URL_DIRECT\) or through transaction pooling/m)
    const direct = await runCli(['verify'], { env: { DATABASE_URL: pooledUrl('transaction') } })
    expect(direct.code).toBe(0)
  })
})
