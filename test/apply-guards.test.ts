import { mkdtemp, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, inject, it } from 'vitest'
import { PROJECT_MIGRATIONS, REPO, runCli, startCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { writeHandMigrations } from './support/hand-migrations.js'
import { useScratchDir } from './support/scratch.js'
import { startMuteServer } from './support/mute-server.js'
import { holdLock, query, waitForBlockedApply } from './support/sessions.js'
import { startTcpProxy } from './support/tcp-proxy.js'
import { enabledTargets } from './support/targets.js'

/**
 * schema:apply's promises under attack: its own statements bounded and
 * immune to role, database and URL settings; no table held while it waits for
 * another; a table owner without CREATE on the schema; hostile database URLs;
 * signals and schema modules that never finish.
 */

const SUCCESS_WORDING = /success|completed|✓|all good/i
const PRE_109_SCHEMA = path.join(REPO, 'test/fixtures/history/pre-109.ts')
const scratch = useScratchDir('guards')

interface GuardContext {
  readonly database: Awaited<ReturnType<typeof createDatabase>>
  readonly env: (extra?: Record<string, string>) => Record<string, string>
}

/**
 * A test on a database of its own holding the pre-109 call_log. They run
 * concurrently (most of their time is spent waiting on locks and timers),
 * except those that measure latency, which run alone.
 */
function guard(name: string, body: (context: GuardContext) => Promise<void>, { alone = false } = {}) {
  ;(alone ? it : it.concurrent)(name, async () => {
    const database = await createDatabase()
    await query(database.url, pre109(100))
    const env = (extra: Record<string, string> = {}) => ({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      SCHEMA_LOCK_TIMEOUT: '1s',
      SCHEMA_LOCK_RETRIES: '1',
      ...extra,
    })
    try {
      await body({ database, env })
    } finally {
      await database.drop()
    }
  })
}

describe.runIf(enabledTargets().includes('postgres'))('schema:apply guards on PostgreSQL', () => {
  /** Hand migrations in a new folder: `0001_first` (creates the history table when applied), then `more`. */
  async function migrations(more: { name: string; steps: { sql: string; lock?: 'none' | 'ACCESS EXCLUSIVE' }[] }[] = []) {
    const dir = await mkdtemp(path.join(scratch(), 'hand-'))
    await writeHandMigrations(dir, [{ name: '0001_first', steps: [{ sql: 'SELECT 1' }] }, ...more])
    return dir
  }

  describe('its own statements', () => {
    guard('a session holding the history table: exit 1 within lock_timeout and retries, naming the table, not hanging', async ({ database, env }) => {
      const dir = await migrations()
      expect((await runCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env() })).code).toBe(0)
      const holder = await holdLock(database.url, 'LOCK TABLE schema_migrate.applied_migrations IN ACCESS EXCLUSIVE MODE')
      try {
        const result = await runCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env() })
        expect(result.code).toBe(1)
        // Two attempts of lock_timeout 1 s and a backoff, plus process start-up on a busy machine: not a hang.
        expect(result.ms).toBeLessThan(60_000)
        expect(result.stderr).toMatch(/^MIGRATION FAILED: \[apply\] reading the history table schema_migrate\.applied_migrations failed: canceling statement due to lock timeout \(SQLSTATE 55P03\)$/m)
        expect(result.stderr).toMatch(/^fix: another session holds a lock that reading the history table/m)
        expect(result.stdout + result.stderr).not.toMatch(SUCCESS_WORDING)
      } finally {
        await holder.release()
      }
    })

    guard('SIGTERM while its own statement waits: exit 143, an interruption, not a statement timeout', async ({ database, env }) => {
      const dir = await migrations()
      expect((await runCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env() })).code).toBe(0)
      const holder = await holdLock(database.url, 'LOCK TABLE schema_migrate.applied_migrations IN ACCESS EXCLUSIVE MODE')
      try {
        const run = startCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env({ SCHEMA_LOCK_TIMEOUT: '30s' }) })
        await waitForBlockedApply(database.url)
        run.child.kill('SIGTERM')
        const result = await run.result
        expect(result.code).toBe(143)
        expect(result.stderr).toMatch(/^MIGRATION FAILED: \[apply\] interrupted during reading the history table schema_migrate\.applied_migrations; no migration was running$/m)
        expect(result.stderr).not.toMatch(/statement_timeout|STATEMENT_TIMEOUT/)
      } finally {
        await holder.release()
      }
    })

    for (const [where, urlFor, setting] of [
      ['the database', (url: string) => url, (name: string) => `ALTER DATABASE ${name} SET statement_timeout = '200ms'`],
      ['the URL', (url: string) => `${url}?options=-c%20statement_timeout%3D200`, () => 'SELECT 1'],
    ] as const) {
      guard(`a statement_timeout set on ${where} cancels neither its own statements nor a DDL step`, async ({ database, env }) => {
      await query(database.url, setting(database.name))
      const first = await migrations()
      expect((await runCli(['apply', '--migrations', first, '--schema', PRE_109_SCHEMA], { env: env({ DATABASE_URL: urlFor(database.url) }) })).code).toBe(0)
      // A DDL step of half a second runs under SCHEMA_STATEMENT_TIMEOUT (0), not the 200 ms.
      const dir = await migrations([{ name: '0002_slow', steps: [{ sql: 'SELECT pg_sleep(0.5)' }] }])
      // The history read waits for this holder longer than 200 ms: only its own bound applies to it.
      const holder = await holdLock(database.url, 'LOCK TABLE schema_migrate.applied_migrations IN ACCESS EXCLUSIVE MODE')
      const run = startCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], {
        env: env({ DATABASE_URL: urlFor(database.url), SCHEMA_LOCK_TIMEOUT: '5s' }),
      })
      await waitForBlockedApply(database.url)
      await new Promise((resolve) => setTimeout(resolve, 500))
      await holder.release()
      const result = await run.result
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('0002_slow: committed')
    })
    }
  })

  guard(
    'a migration over three tables never holds one while waiting for another: readers of the first wait far less than lock_timeout',
    async ({ database, env }) => {
      await query(database.url, ['a', 'b', 'c'].map((t) => `CREATE TABLE ${t} (id int PRIMARY KEY); INSERT INTO ${t} VALUES (1);`).join(''))
      const dir = await migrations([
        {
          name: '0002_three_tables',
          steps: ['a', 'b', 'c'].map((t) => ({ sql: `ALTER TABLE "public"."${t}" ADD COLUMN IF NOT EXISTS "x" integer`, lock: 'ACCESS EXCLUSIVE' as const })),
        },
      ])
      const holdB = await holdLock(database.url, 'SELECT * FROM b')
      const holdC = await holdLock(database.url, 'SELECT * FROM c')
      const run = startCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env({ SCHEMA_LOCK_RETRIES: '8' }) })

      // An application reading a, over and over, for the whole run.
      const reader = new pg.Client({ connectionString: database.url })
      await reader.connect()
      let longestReadMs = 0
      let reading = true
      const reads = (async () => {
        while (reading) {
          const started = performance.now()
          await reader.query('SELECT count(*) FROM a')
          longestReadMs = Math.max(longestReadMs, performance.now() - started)
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      })()
      setTimeout(() => void holdB.release(), 2_000)
      setTimeout(() => void holdC.release(), 3_000)
      const result = await run.result
      reading = false
      await reads
      await reader.end()

      // Holding a while waiting for b, then c, would keep readers of a waiting a lock_timeout (1 s) or more.
      expect(longestReadMs).toBeLessThan(300)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/locked public\.\w, public\.\w, public\.\w/)
      expect(await query(database.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE column_name = 'x'`)).toEqual([{ n: 3 }])
    },
    { alone: true },
  )

  guard('settings on the database cannot change what a step means or end the session between retries', async ({ database, env }) => {
    await query(
      database.url,
      `ALTER DATABASE ${database.name} SET standard_conforming_strings = off;
       ALTER DATABASE ${database.name} SET "DateStyle" = 'SQL, DMY';
       ALTER DATABASE ${database.name} SET idle_session_timeout = '300ms'`,
    )
    const check = `DO $$ BEGIN
      IF current_setting('standard_conforming_strings') <> 'on' OR current_setting('DateStyle') <> 'ISO, MDY'
         OR current_setting('idle_session_timeout') <> '0' THEN
        RAISE EXCEPTION 'session settings not in effect: %, %, %', current_setting('standard_conforming_strings'),
          current_setting('DateStyle'), current_setting('idle_session_timeout');
      END IF; END $$`
    const dir = await migrations([
      { name: '0002_settings', steps: [{ sql: check }, { sql: 'ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "note" text', lock: 'ACCESS EXCLUSIVE' }] },
    ])
    // A lock held past the first attempt: the session idles through the backoff, longer than 300 ms.
    const holder = await holdLock(database.url)
    const run = startCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env({ SCHEMA_LOCK_TIMEOUT: '300ms', SCHEMA_LOCK_RETRIES: '5' }) })
    await waitForBlockedApply(database.url)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await holder.release()
    const result = await run.result
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/retry 1 of 5/)
  })

  guard('SIGTERM with no connection slot left for a cancel: the cancel key needs none, exit 143 at once', async ({ database, env }) => {
    const role = `limited_${database.name}`
    try {
      await query(database.url, `CREATE ROLE ${role} LOGIN PASSWORD 'limited-secret-1' CONNECTION LIMIT 1; ALTER TABLE call_log OWNER TO ${role};
        GRANT CREATE ON DATABASE ${database.name} TO ${role};`)
      const url = new URL(database.url)
      url.username = role
      url.password = 'limited-secret-1'
      const holder = await holdLock(database.url)
      try {
        const run = startCli(['apply'], { env: env({ DATABASE_URL: url.href, SCHEMA_LOCK_TIMEOUT: '30s', SCHEMA_LOCK_RETRIES: '0' }) })
        await waitForBlockedApply(database.url)
        const killedAt = performance.now()
        run.child.kill('SIGTERM')
        const result = await run.result
        expect(result.code).toBe(143)
        expect(performance.now() - killedAt).toBeLessThan(2_500)
        expect(result.stderr).toMatch(/^MIGRATION FAILED: \[apply\] interrupted during 0002_call_log_add_started_at_ended_at_duration_sec locking table public\.call_log/m)
        expect(result.stdout + result.stderr).not.toContain('limited-secret-1')
      } finally {
        await holder.release()
      }
      expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await database.drop()
      await query(database.url.replace(/\/[^/]+$/, '/postgres'), `DROP ROLE IF EXISTS ${role}`)
    }
  })

  guard('SIGTERM when the network has gone silent: the connection is dropped within seconds, exit 143', async ({ database, env }) => {
    const proxy = await startTcpProxy(new URL(database.url))
    const holder = await holdLock(database.url)
    try {
      const run = startCli(['apply'], { env: env({ DATABASE_URL: proxy.url, SCHEMA_LOCK_TIMEOUT: '60s', SCHEMA_LOCK_RETRIES: '0' }) })
      await waitForBlockedApply(database.url)
      proxy.freeze()
      const killedAt = performance.now()
      run.child.kill('SIGTERM')
      const result = await run.result
      expect(result.code).toBe(143)
      // The cancel reaches the server, but its answer never comes back: the connection is dropped after 3 s.
      expect(performance.now() - killedAt).toBeLessThan(3_000 + 3_000)
      expect(result.stderr).toMatch(/^MIGRATION FAILED: \[apply\] interrupted during 0002_call_log_add_started_at_ended_at_duration_sec/m)
    } finally {
      await holder.release()
      proxy.close()
    }
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
  })

  guard('a table owner without CREATE on schema public (PostgreSQL 15+ default): the no-op CREATE TABLE is left out, the columns apply; an index needs CREATE and says so', async ({ database, env }) => {
    const role = `owner_${database.name}`
    try {
      await query(
        database.url,
        `CREATE ROLE ${role} LOGIN PASSWORD 'owner-secret-1'; ALTER TABLE call_log OWNER TO ${role};
         REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT CREATE ON DATABASE ${database.name} TO ${role};`,
      )
      const url = new URL(database.url)
      url.username = role
      url.password = 'owner-secret-1'
      const result = await runCli(['apply'], { env: env({ DATABASE_URL: url.href }) })
      expect(result.stdout).toContain('step 1/1 left out: table public.call_log exists already, so CREATE TABLE IF NOT EXISTS "public"."call_log" would do nothing')
      expect(result.stdout).toContain('0003_call_log_add_summary_status: committed')
      expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
      // PostgreSQL checks CREATE on the schema for every CREATE INDEX, even by the table's owner.
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^fix: the role may not create objects in schema public: .*GRANT CREATE ON SCHEMA public/m)
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        'MIGRATION FAILED: [apply] 0004_call_log_index_call_sid_key_created_at_idx step 1/3 (create-index call_log.call_log_call_sid_key) failed: permission denied for schema public (SQLSTATE 42501)',
      )
      await query(database.url, `GRANT CREATE ON SCHEMA public TO ${role}`)
      const granted = await runCli(['apply'], { env: env({ DATABASE_URL: url.href }) })
      expect(granted.stderr).toBe('')
      expect(granted.code).toBe(0)
    } finally {
      await database.drop()
      await query(database.url.replace(/\/[^/]+$/, '/postgres'), `DROP ROLE IF EXISTS ${role}`)
    }
  })

  guard('a NOT NULL column without a default, allowed on an empty copy, fails on the table with rows with a fix', async ({ database, env }) => {
    const dir = await migrations([
      { name: '0002_required', steps: [{ sql: 'ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "required" text NOT NULL', lock: 'ACCESS EXCLUSIVE' }] },
    ])
    const result = await runCli(['apply', '--migrations', dir, '--schema', PRE_109_SCHEMA], { env: env() })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/SQLSTATE 23502/)
    expect(result.stderr).toMatch(/^fix: a NOT NULL column without a default cannot be added to a table that has rows/m)
  })

  guard('the socket form of a URL node-postgres accepts (postgres://user:password@/db?host=/socket/dir) connects', async ({ database, env }) => {
    const socketDir = inject('serverSockets').postgres as string
    const { port } = new URL(database.url)
    const url = `postgres://postgres:test-password@/${database.name}?host=${socketDir}&port=${port}`
    const result = await runCli(['apply'], { env: env({ DATABASE_URL: url }) })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`target postgres://postgres:***@[socket ${socketDir}]:${port}/${database.name}`)
  })

  guard('SIGTERM while waiting for the migration lock: exit 143 with a fix line, nothing applied', async ({ database, env }) => {
    const other = new pg.Client({ connectionString: database.url })
    await other.connect()
    await other.query('SELECT pg_advisory_lock(72616001)')
    try {
      const run = startCli(['apply'], { env: env() })
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline) {
        const waiting = await query(database.url, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'schema-migrate'`)
        if (waiting.length > 0) break
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
      run.child.kill('SIGTERM')
      const result = await run.result
      expect(result.code).toBe(143)
      expect(result.stderr).toMatch(/^fix: run schema:apply again once the other run has finished/m)
      expect(result.stderr).toMatch(/^MIGRATION FAILED: \[lock\] interrupted while waiting for the migration lock; nothing was applied$/m)
      expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await other.end()
    }
  })
})

describe('hostile database URLs: described by part, never echoed, never resolved', () => {
  it.concurrent.each([
    ['an unencoded @ / % and : in the password', 'postgres://app:Sup3r@S3cr%t:/x@db.internal/app', ['Sup3r', 'S3cr', 'x@db']],
    ['an invalid percent-escape (%zz) in the password', 'postgres://app:pa%zzword@db.internal:5432/app', ['pa%zz', 'zzword']],
    ['an unencoded @ in the password', 'postgres://app:pa@ss@db.internal:5432/app', ['pa@ss', 'ss@db']],
    ['an unencoded / in the password', 'postgres://app:pa/ss5432@db.internal:5432/app', ['pa/ss', 'ss5432']],
    ['an unencoded # in the password', 'postgres://app:pa#ss@db.internal:5432/app', ['pa#ss', 'ss@db']],
  ])('%s: exit 1 at the settings stage with MIGRATION FAILED, and no piece of the password anywhere', async (_case, url, pieces) => {
    // A resolver that would see a lookup: none happens, since nothing connects.
    const connections: string[] = []
    const trap = net.createServer((socket) => {
      connections.push('connect')
      socket.destroy()
    })
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
    try {
      for (const args of [['apply'], ['apply', '--json'], ['verify']]) {
        const result = await runCli(args, { env: { NODE_ENV: 'production', DATABASE_URL: url } })
        const output = result.stdout + result.stderr
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/DATABASE_URL is malformed: /)
        expect(result.stderr).toMatch(/^fix: /m)
        expect(output).not.toMatch(/URIError|at .*\.js:\d+/)
        for (const piece of pieces) expect(output).not.toContain(piece)
        if (args[0] === 'apply') expect(output).toMatch(/MIGRATION FAILED: \[settings\] DATABASE_URL is malformed/)
      }
      expect(connections).toEqual([])
    } finally {
      trap.close()
    }
  })
})

describe.concurrent('schema modules that misbehave', () => {
  it('a schema module whose top-level await never settles: exit 1 with a message, not a silent exit 13', async () => {
    const file = path.join(scratch(), 'never-settles.ts')
    await writeFile(file, 'await new Promise(() => {})\nexport const schema = null\n')
    const result = await runCli(['apply', '--schema', file, '--migrations', PROJECT_MIGRATIONS], {
      env: { NODE_ENV: 'production', DATABASE_URL: 'postgres://app:pw-unused@127.0.0.1:1/app' },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('awaits something that never settles')
    expect(result.stderr).toMatch(/^fix: /m)
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^MIGRATION FAILED: \[schema\]/)
  })

  it('check, and plan and verify with a reachable server, report a module that never settles at once', async ({ expect }) => {
    const file = path.join(scratch(), 'never-settles-read-only.ts')
    await writeFile(file, 'await new Promise(() => {})\nexport const schema = null\n')
    const database = await createDatabase()
    try {
      // plan and verify connect while the schema loads: the idle connection must not hold the process.
      const runs = [
        runCli(['check', '--schema', file]),
        runCli(['plan', '--dry-run', '--schema', file], { env: { DATABASE_URL: database.url } }),
        runCli(['verify', '--schema', file], { env: { DATABASE_URL: database.url } }),
      ]
      for (const result of await Promise.all(runs)) {
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('awaits something that never settles')
        // The pool's idle timeout is 10 s; the event loop empties long before.
        expect(result.ms).toBeLessThan(8_000)
      }
    } finally {
      await database.drop()
    }
  })

  it('plan and verify with a schema that throws report it at once, though the server they began connecting to is silent', async ({ expect }) => {
    const silent = net.createServer(() => {}) // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    const file = path.join(scratch(), 'throws-read-only.ts')
    await writeFile(file, `throw new Error('boom at import')\n`)
    try {
      for (const command of ['plan', 'verify']) {
        const result = await runCli([command, '--schema', file, '--connect-timeout', '30s'], { env: { DATABASE_URL: `postgres://app:pw@127.0.0.1:${port}/app` } })
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('throws-read-only.ts failed to load: Error: boom at import')
        expect(result.stderr).not.toContain('timeout')
        expect(result.ms).toBeLessThan(8_000)
      }
    } finally {
      silent.close()
    }
  })

  it('a server that logs in and then answers nothing: verify fails within the connect timeout, a failing schema at once, apply exits 143 on SIGTERM', async ({ expect }) => {
    const mute = await startMuteServer()
    const url = `postgres://app:pw@127.0.0.1:${mute.port}/app`
    const late = path.join(scratch(), 'throws-after-login.ts')
    // Late enough that the login is done and the session set-up is what hangs.
    await writeFile(late, `await new Promise((resolve) => setTimeout(resolve, 700))\nthrow new Error('boom after login')\n`)
    try {
      const [silent, failing] = await Promise.all([
        runCli(['verify', '--connect-timeout', '2s'], { env: { DATABASE_URL: url } }),
        runCli(['verify', '--schema', late, '--connect-timeout', '30s'], { env: { DATABASE_URL: url } }),
      ])
      expect(silent.code).toBe(1)
      expect(silent.stderr).toContain(`connected to postgres://app:***@127.0.0.1:${mute.port}/app, but it did not answer the session set-up within 2 s`)
      expect(silent.ms).toBeLessThan(8_000)
      expect(failing.code).toBe(1)
      expect(failing.stderr).toContain('throws-after-login.ts failed to load: Error: boom after login')
      expect(failing.ms).toBeLessThan(8_000)

      const run = startCli(['apply', '--connect-timeout', '60s'], { env: { NODE_ENV: 'production', DATABASE_URL: url } })
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      run.child.kill('SIGTERM')
      const interrupted = await run.result
      expect(interrupted.code).toBe(143)
      expect(interrupted.stderr).toMatch(/^MIGRATION FAILED: \[connect\] connecting to .* was interrupted \(SIGTERM\); nothing was sent that changes it$/m)
    } finally {
      mute.close()
    }
  })

  it('plan and verify on an existing .pglite/ report a module that never settles, and leave the database as it was', async ({ expect }) => {
    const cwd = await mkdtemp(path.join(scratch(), 'embedded-never-'))
    const project = ['--schema', path.join(REPO, 'schema/index.ts'), '--migrations', PROJECT_MIGRATIONS]
    expect((await runCli(['apply', ...project], { cwd })).code).toBe(0)
    const file = path.join(cwd, 'never.ts')
    await writeFile(file, 'await new Promise(() => {})\nexport const schema = null\n')
    for (const command of ['plan', 'verify']) {
      const result = await runCli([command, '--schema', file, '--migrations', PROJECT_MIGRATIONS], { cwd })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('awaits something that never settles')
      expect(result.ms).toBeLessThan(8_000)
    }
    expect((await runCli(['verify', ...project], { cwd })).code).toBe(0)
  })

  it('SIGTERM during a busy-looping schema module ends the process at once, and it never connects', async () => {
    const connections: string[] = []
    const trap = net.createServer((socket) => {
      connections.push('connect')
      socket.destroy()
    })
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
    const { port } = trap.address() as net.AddressInfo
    const file = path.join(scratch(), 'busy.ts')
    await writeFile(file, `const end = Date.now() + 3000\nwhile (Date.now() < end) {}\nexport const schema = null\n`)
    try {
      const run = startCli(['apply', '--schema', file], { env: { NODE_ENV: 'production', DATABASE_URL: `postgres://app:pw@127.0.0.1:${port}/app` } })
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      const killedAt = performance.now()
      run.child.kill('SIGTERM')
      const result = await run.result
      expect(result.signal).toBe('SIGTERM')
      expect(performance.now() - killedAt).toBeLessThan(1_000)
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(connections).toEqual([])
    } finally {
      trap.close()
    }
  })
})
