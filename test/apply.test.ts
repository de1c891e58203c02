import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it, type TestContext } from 'vitest'
import { maxTotalBackoff } from '../src/apply/timing.js'
import { PROJECT_MIGRATIONS, REPO, runCli, startCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { writeHandMigrations } from './support/hand-migrations.js'
import { useScratchDir } from './support/scratch.js'
import { holdLock, query, waitForBlockedApply } from './support/sessions.js'
import { enabledTargets } from './support/targets.js'

/**
 * `schema:apply` on a real PostgreSQL, through the CLI process the migrate
 * container runs: locks, retries, connection loss, signals, edited
 * migrations, concurrent runners, and the post-apply assertion. Each test
 * has a database of its own, so they run concurrently.
 */

const SUCCESS_WORDING = /success|completed|✓|all good/i

const columnsOf = async (url: string) =>
  (
    await query<{ column_name: string }>(
      url,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'call_log' ORDER BY ordinal_position`,
    )
  ).map((r) => r.column_name)

const historyOf = async (url: string) =>
  (
    await query<{ name: string }>(
      url,
      `SELECT name FROM schema_migrate.applied_migrations ORDER BY name`,
    ).catch(() => [])
  ).map((r) => r.name)

describe.runIf(enabledTargets().includes('postgres')).concurrent('schema:apply on PostgreSQL', () => {
  const scratch = useScratchDir('apply')
  /**
   * A database of the test's own holding the pre-109 call_log with 1,000 rows, dropped when the test
   * ends, and the migrate container's environment for it: tests run concurrently, each on its own.
   */
  const setUp = async ({ onTestFinished }: TestContext) => {
    const database = await createDatabase()
    onTestFinished(() => database.drop())
    await query(database.url, pre109(1_000))
    const env = (extra: Record<string, string> = {}) => ({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      SCHEMA_LOCK_TIMEOUT: '1s',
      SCHEMA_LOCK_RETRIES: '2',
      ...extra,
    })
    return { database, env }
  }

  it('applies 109 and 110 to 200,000 rows, verifies, loses nothing, and a re-run is a no-op that still asserts', async (context) => {
    const { database, env } = await setUp(context)
    await query(database.url, 'INSERT INTO call_log (call_sid) SELECT $$CB$$ || g FROM generate_series(1, 199000) g')
    const result = await runCli(['apply'], { env: env() })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('0002_call_log_add_started_at_ended_at_duration_sec: committed')
    expect(result.stdout).toMatch(/Applied 4 migrations \(8 steps\).*live schema verified against schema\/: 1 table, 10 columns, 2 indexes\.$/m)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
    expect(await query(database.url, 'SELECT count(*)::int AS n FROM call_log')).toEqual([{ n: 200_000 }])

    const again = await runCli(['apply'], { env: env() })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('none pending')
    expect(again.stdout).toContain('post-apply check: live schema matches schema/')
    expect(await historyOf(database.url)).toHaveLength(4)
  })

  // Alone: its bounds count the process's start-up, which concurrent runs would slow.
  it.sequential('with a session holding a lock: exit 1 within the bound, nothing added, readers never stuck longer than lock_timeout', async (context) => {
    const { database, env } = await setUp(context)
    const holder = await holdLock(database.url)
    try {
      const run = startCli(['apply'], { env: env() })
      await waitForBlockedApply(database.url)
      // A reader arriving now queues behind the waiting ACCESS EXCLUSIVE request, at most until lock_timeout ends it.
      const readerStarted = performance.now()
      await query(database.url, 'SELECT count(*) FROM call_log')
      const readerMs = performance.now() - readerStarted
      const result = await run.result

      expect(result.code).toBe(1)
      expect(readerMs).toBeLessThan(1_000 + 500)
      // lock_timeout x (retries + 1) plus the longest backoff, plus process start-up and connection on a busy machine.
      expect(result.ms).toBeLessThan(1_000 * 3 + maxTotalBackoff(2) + 10_000)
      expect(result.stderr).toMatch(/^MIGRATION FAILED: \[apply\] 0002_call_log_add_started_at_ended_at_duration_sec locking table public\.call_log before its steps failed after 3 attempts: canceling statement due to lock timeout \(SQLSTATE 55P03\)$/m)
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^MIGRATION FAILED/)
      expect(result.stdout).toContain('retry 2 of 2')
      expect(result.stdout + result.stderr).not.toMatch(SUCCESS_WORDING)
      expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await holder.release()
    }
  })

  it('succeeds when the lock is released while retries remain', async (context) => {
    const { database, env } = await setUp(context)
    const holder = await holdLock(database.url)
    const run = startCli(['apply'], { env: env({ SCHEMA_LOCK_RETRIES: '5' }) })
    await waitForBlockedApply(database.url)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await holder.release()
    const result = await run.result
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/SQLSTATE 55P03\); rolled back, retry 1 of 5/)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
  })

  it('fails and names duration_sec when it already exists as text', async (context) => {
    const { database, env } = await setUp(context)
    await query(database.url, 'ALTER TABLE call_log ADD COLUMN duration_sec text')
    const result = await runCli(['apply'], { env: env() })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('call_log.duration_sec: type is text, declared integer')
    expect(result.stderr).toMatch(/MIGRATION FAILED: \[assert\] the live schema does not match schema\/ after applying: call_log\.duration_sec$/m)
    expect(result.stdout + result.stderr).not.toMatch(SUCCESS_WORDING)
  })

  it('refuses an applied migration that was edited, by name', async (context) => {
    const { env } = await setUp(context)
    const dir = path.join(scratch(), 'edited')
    await cp(PROJECT_MIGRATIONS, dir, { recursive: true })
    expect((await runCli(['apply', '--migrations', dir], { env: env() })).code).toBe(0)

    const file = path.join(dir, '0002_call_log_add_started_at_ended_at_duration_sec.ts')
    await writeFile(file, (await readFile(file, 'utf8')).replace('"duration_sec" integer', '"duration_sec" bigint'))
    const result = await runCli(['apply', '--migrations', dir], { env: env() })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/MIGRATION FAILED: \[migrations\] 0002_call_log_add_started_at_ended_at_duration_sec was edited after it was written/)
  })

  it('refuses a pending migration edited to run something else, by name, before running anything', async (context) => {
    const { database, env } = await setUp(context)
    const dir = path.join(scratch(), 'edited-pending')
    await cp(PROJECT_MIGRATIONS, dir, { recursive: true })
    const file = path.join(dir, '0002_call_log_add_started_at_ended_at_duration_sec.ts')
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(
        'ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "ended_at" timestamp with time zone',
        'TRUNCATE "public"."call_log"',
      ),
    )
    const result = await runCli(['apply', '--migrations', dir], { env: env() })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^fix: restore 0002_call_log_add_started_at_ended_at_duration_sec\.ts from version control.*Nothing was run\.$/m)
    expect(result.stderr).toMatch(/MIGRATION FAILED: \[migrations\] 0002_call_log_add_started_at_ended_at_duration_sec was edited after it was written/)
    expect(result.stdout).not.toContain('step')
    expect(await query(database.url, 'SELECT count(*)::int AS n FROM call_log')).toEqual([{ n: 1_000 }])
    expect(await historyOf(database.url)).toEqual([])
  })

  it('the log shows the SQL each step runs', async (context) => {
    const { env } = await setUp(context)
    const result = await runCli(['apply'], { env: env() })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('  step 1/3: ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "started_at" timestamp with time zone')
    expect(result.stdout).toMatch(/^ {2}step 1\/3 ran in \d+ ms$/m)
  })

  it('two runners at once: one applies, the other waits for the migration lock and finds nothing to do', async (context) => {
    const { database, env } = await setUp(context)
    const holder = await holdLock(database.url)
    const first = startCli(['apply'], { env: env({ SCHEMA_LOCK_RETRIES: '10' }) })
    await waitForBlockedApply(database.url)
    const second = startCli(['apply'], { env: env({ SCHEMA_LOCK_RETRIES: '10' }) })
    // Release only once the second runner is connected and polling for the migration lock.
    for (let deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const sessions = await query(database.url, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'schema-migrate'`)
      if (sessions.length >= 2) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    await holder.release()
    const results = await Promise.all([first.result, second.result])

    expect(results.map((r) => r.code)).toEqual([0, 0])
    expect(results[0]?.stdout).toContain('Applied 4 migrations')
    expect(results[1]?.stdout).toContain('waiting for the migration lock, held by backend pid')
    expect(results[1]?.stdout).toContain('Nothing to apply (4 migrations applied before)')
    expect(await historyOf(database.url)).toEqual([
      '0001_create_call_log',
      '0002_call_log_add_started_at_ended_at_duration_sec',
      '0003_call_log_add_summary_status',
      '0004_call_log_index_call_sid_key_created_at_idx',
    ])
  })

  it('a runner that cannot get the migration lock in time exits 1 naming the lock and its holder in this database', async (context) => {
    const { database, env } = await setUp(context)
    // A run against another database of the same server holds a lock of the same key there, first: it is not the holder.
    const elsewhere = await createDatabase()
    const unrelated = new pg.Client({ connectionString: elsewhere.url, application_name: 'unrelated-runner' })
    await unrelated.connect()
    await unrelated.query('SELECT pg_advisory_lock(72616001)')
    const other = new pg.Client({ connectionString: database.url, application_name: 'other-runner' })
    await other.connect()
    await other.query('SELECT pg_advisory_lock(72616001)')
    context.onTestFinished(async () => {
      await unrelated.end()
      await elsewhere.drop()
    })
    try {
      const result = await runCli(['apply', '--lock-wait', '1s'], { env: env() })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/MIGRATION FAILED: \[lock\] another schema:apply holds the migration lock \(advisory lock 72616001, backend pid \d+ \(other-runner\)\)/)
      expect(await historyOf(database.url)).toEqual([])
    } finally {
      await other.end()
    }
  })

  it('the backend killed while the DDL waits: exit 1, nothing half-applied, a re-run succeeds', async (context) => {
    const { database, env } = await setUp(context)
    const holder = await holdLock(database.url)
    const run = startCli(['apply'], { env: env({ SCHEMA_LOCK_TIMEOUT: '30s' }) })
    const pid = await waitForBlockedApply(database.url)
    await query(database.url, `SELECT pg_terminate_backend(${pid})`)
    const result = await run.result
    await holder.release()

    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/MIGRATION FAILED: .*0002_call_log_add_started_at_ended_at_duration_sec locking table public\.call_log.*SQLSTATE 57P01/)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    expect(await historyOf(database.url)).toEqual(['0001_create_call_log'])

    const rerun = await runCli(['apply'], { env: env() })
    expect(rerun.code).toBe(0)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
  })

  it.for([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s mid-apply rolls back, exits %i, and a re-run converges', async ([signal, exitCode], context) => {
    const { database, env } = await setUp(context)
    const holder = await holdLock(database.url)
    const run = startCli(['apply'], { env: env({ SCHEMA_LOCK_TIMEOUT: '30s' }) })
    await waitForBlockedApply(database.url)
    const signalledAt = performance.now()
    run.child.kill(signal)
    const result = await run.result
    const exitMs = performance.now() - signalledAt
    const lingering = await query(database.url, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'schema-migrate'`)
    await holder.release()

    expect(result.code).toBe(exitCode)
    // Well inside lock_timeout (30 s): the cancel ended the wait.
    expect(exitMs).toBeLessThan(5_000)
    expect(result.stderr).toMatch(/MIGRATION FAILED: \[apply\] interrupted during 0002_call_log_add_started_at_ended_at_duration_sec locking table public\.call_log before its steps/)
    expect(lingering).toEqual([])
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)

    const rerun = await runCli(['apply'], { env: env() })
    expect(rerun.code).toBe(0)
    expect(await query(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
  })

  it('--json prints one JSON event per line, ending with the outcome', async (context) => {
    const { database, env } = await setUp(context)
    const ok = await runCli(['apply', '--json'], { env: env() })
    expect(ok.code).toBe(0)
    const events = ok.stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(events.map((e) => e.event)).toContain('step-ran')
    expect(events.at(-1)).toMatchObject({ event: 'finished', ok: true, verified: { tables: 1, columns: 10 } })

    await query(database.url, 'ALTER TABLE call_log ALTER COLUMN duration_sec TYPE text')
    const failed = await runCli(['apply', '--json'], { env: env() })
    expect(failed.code).toBe(1)
    const last = JSON.parse(failed.stdout.trim().split('\n').at(-1) ?? '')
    expect(last).toMatchObject({ event: 'failed', ok: false, mismatches: [{ subject: 'call_log.duration_sec' }] })
    expect(last.message).toMatch(/^MIGRATION FAILED/)
  })

  describe('hand-written migrations exercise the executor', () => {
    const migrationWith = async (name: string, statements: string[]) => {
      const dir = await mkdtemp(path.join(scratch(), 'custom-'))
      await writeHandMigrations(dir, [{ name: `0001_${name}`, steps: statements.map((sql) => ({ sql })) }])
      return dir
    }

    it('SET LOCAL lock_timeout and statement_timeout are in effect during the DDL itself', async (context) => {
      const { env } = await setUp(context)
      const check = `DO $$ BEGIN
        IF current_setting('lock_timeout') <> '2s' OR current_setting('statement_timeout') <> '3s' THEN
          RAISE EXCEPTION 'timeouts not in effect: lock_timeout=%, statement_timeout=%',
            current_setting('lock_timeout'), current_setting('statement_timeout');
        END IF; END $$`
      const dir = await migrationWith('check_timeouts', [check, check])
      const result = await runCli(['apply', '--migrations', dir, '--schema', path.join(REPO, 'test/fixtures/history/pre-109.ts')], {
        env: env({ SCHEMA_LOCK_TIMEOUT: '2s', SCHEMA_STATEMENT_TIMEOUT: '3s' }),
      })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    })

    it('a statement timeout (57014) fails at once: only lock timeouts and deadlocks are retried', async (context) => {
      const { env } = await setUp(context)
      const dir = await migrationWith('slow', ['SELECT pg_sleep(5)'])
      const result = await runCli(['apply', '--migrations', dir], { env: env({ SCHEMA_STATEMENT_TIMEOUT: '500ms' }) })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/MIGRATION FAILED: \[apply\] 0001_slow step 1\/1 \(add-column step 1\) failed: canceling statement due to statement timeout \(SQLSTATE 57014\)$/m)
      expect(result.stdout).not.toContain('retry')
    })

    it('a step is exactly one statement: a second one is refused, and nothing runs', async (context) => {
      const { database, env } = await setUp(context)
      const dir = await migrationWith('smuggled', ['ALTER TABLE call_log ADD COLUMN a int; DROP TABLE call_log'])
      const result = await runCli(['apply', '--migrations', dir], { env: env() })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('cannot insert multiple commands into a prepared statement (SQLSTATE 42601)')
      expect(await columnsOf(database.url)).toContain('call_sid')
      expect(await columnsOf(database.url)).not.toContain('a')
    })

    it('any failure stops the run: later migrations do not run', async (context) => {
      const { database, env } = await setUp(context)
      const dir = await mkdtemp(path.join(scratch(), 'custom-'))
      await writeHandMigrations(dir, [
        { name: '0001_fails', steps: [{ sql: 'SELECT * FROM no_such_table' }] },
        { name: '0002_later', steps: [{ sql: 'ALTER TABLE call_log ADD COLUMN later int' }] },
      ])
      const result = await runCli(['apply', '--migrations', dir], { env: env() })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/0001_fails step 1\/1 .* \(SQLSTATE 42P01\)/)
      expect(result.stdout).toContain('2 pending: 0001_fails, 0002_later')
      expect(result.stdout).not.toMatch(/^0002_later:/m)
      expect(await columnsOf(database.url)).not.toContain('later')
    })
  })
})
