import { mkdtemp, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { type ApplyEvent, applyMigrations } from '../src/apply/apply.js'
import { loadMigrations } from '../src/migrations/files.js'
import { openTarget } from '../src/target/open.js'
import { loadSchema } from '../src/load-schema.js'
import { generateMigration } from '../src/migrations/generate.js'
import { type CliResult, REPO, runCli, startCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109 } from './support/fixtures.js'
import { useScratchDir } from './support/scratch.js'
import { planFor } from './support/pipeline.js'
import { holdLock, query } from './support/sessions.js'
import { enabledServers, type ServerTarget } from './support/targets.js'

/**
 * Concurrent index builds through the CLI the migrate container runs, on
 * PostgreSQL 18 and 14: cancelled, killed, failing on duplicates, waiting on
 * another session, and watched while they run. A build is made slow on
 * purpose by an expression index over a function that sleeps per row while
 * the database setting `ksm_test.delay` is set.
 */

const scratch = useScratchDir('index-builds')

const SLOW_FUNCTION = `CREATE FUNCTION ksm_test_slow(x integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF coalesce(current_setting('ksm_test.delay', true), '') <> '' THEN PERFORM pg_sleep(current_setting('ksm_test.delay')::float8); END IF;
  RETURN x;
END $$`

const SLOW_INDEX = 'jobs_ksm_test_slow_idx'

interface Fixture {
  readonly url: string
  readonly name: string
  readonly dir: string
  readonly schema: string
  readonly env: Record<string, string>
  drop(): Promise<void>
}

/**
 * A database holding `jobs` (`rows` rows) and a planned migration that adds a
 * unique constraint on `code` (steps 1-2) and the slow index (step 3).
 */
async function fixture(server: ServerTarget, options: { rows?: number; duplicates?: boolean } = {}): Promise<Fixture> {
  const database = await createDatabase(server)
  const rows = options.rows ?? 500
  await query(database.url, SLOW_FUNCTION)
  await query(
    database.url,
    `CREATE TABLE jobs (id bigint PRIMARY KEY, code text NOT NULL, n integer NOT NULL);
     INSERT INTO jobs SELECT g, 'J' || ${options.duplicates ? `(g % ${rows - 10})` : 'g'}, g FROM generate_series(1, ${rows}) g`,
  )
  const dir = await mkdtemp(path.join(scratch(), `${server}-`))
  const schema = path.join(dir, 'schema.ts')
  await writeFile(
    schema,
    `import { c, defineSchema, expression, index, table } from '${path.join(REPO, 'src/dsl/index.js')}'
export const schema = defineSchema(
  table('jobs', { id: c.bigint().primaryKey(), code: c.text().notNull().unique(), n: c.integer().notNull() },
    { indexes: [index(expression('ksm_test_slow(n)'))] }),
)\n`,
  )
  const migrations = path.join(dir, 'migrations')
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    SCHEMA_MODULE: schema,
    SCHEMA_MIGRATIONS_DIR: migrations,
    SCHEMA_LOCK_TIMEOUT: '1s',
    SCHEMA_LOCK_RETRIES: '1',
  }
  await plan(database.url, schema, migrations, true)
  return { url: database.url, name: database.name, dir: migrations, schema, env, drop: database.drop }
}

/** Plans `schema` against the database as `schema:plan` does (in process: a CLI start costs seconds); returns the plan's steps. */
async function plan(url: string, schema: string, dir: string, write: boolean): Promise<number> {
  const target = await openTarget({ kind: 'postgres', url, display: 'test', password: '' }, { connectTimeoutMs: 10_000 })
  try {
    const declared = await loadSchema(schema)
    const planned = await planFor(target.db, declared)
    if (write) await generateMigration({ plan: planned, declared, files: await loadMigrations(dir), pending: [], dir, dryRun: false })
    return planned.steps.length
  } finally {
    await target.close()
  }
}

/** Applies the fixture's migrations with the production executor, in process; returns its events. */
async function applyInProcess(f: Fixture, progressIntervalMs?: number): Promise<ApplyEvent[]> {
  const target = await openTarget({ kind: 'postgres', url: f.url, display: f.name, password: '' }, { connectTimeoutMs: 10_000 })
  const events: ApplyEvent[] = []
  try {
    await applyMigrations({
      db: target.db,
      declared: await loadSchema(f.schema),
      migrations: await loadMigrations(f.dir),
      timeouts: { lockTimeout: '5s', statementTimeout: '0' },
      lockRetries: 0,
      lockWaitMs: 1_000,
      signal: new AbortController().signal,
      cancel: () => target.cancel(),
      sideQuery: target.sideQuery,
      ...(progressIntervalMs === undefined ? {} : { progressIntervalMs }),
      onEvent: (event) => events.push(event),
    })
    return events
  } finally {
    await target.close()
  }
}

/**
 * Waits until a build of `index` on `jobs` is in a phase matching `phase`;
 * returns its backend pid. Gives up if the apply run ends first, with its output.
 */
async function waitForBuild(
  url: string,
  run: ReturnType<typeof startCli>,
  phase = /building index/,
  index = SLOW_INDEX,
): Promise<number> {
  const apply: { ended: CliResult | null } = { ended: null }
  void run.result.then((result) => (apply.ended = result))
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    const { ended } = apply
    if (ended) throw new Error(`apply ended before the build of ${index} was seen:\n${ended.stdout}${ended.stderr}`)
    const rows = await query<{ pid: number; phase: string }>(
      url,
      `SELECT p.pid, p.phase FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid
        WHERE p.relid = 'jobs'::regclass AND c.relname = '${index}'`,
    )
    if (rows[0] && phase.test(rows[0].phase)) return rows[0].pid
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`the build of ${index} was not seen within 90 s`)
}

const indexesOf = (url: string) =>
  query<{ name: string; valid: boolean }>(
    url,
    `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'jobs'::regclass AND NOT i.indisprimary ORDER BY 1`,
  )
const progressOf = async (url: string) =>
  (await query<{ step: number }>(url, 'SELECT step FROM schema_migrate.applied_steps ORDER BY step')).map((r) => r.step)
const historyOf = async (url: string) =>
  (await query<{ name: string }>(url, 'SELECT name FROM schema_migrate.applied_migrations')).map((r) => r.name)
const slowBuilds = (f: Fixture, delay: string | null) =>
  query(f.url, delay === null ? `ALTER DATABASE ${f.name} RESET ksm_test.delay` : `ALTER DATABASE ${f.name} SET ksm_test.delay = '${delay}'`)

/** Several CLI runs each, on a machine shared with the rest of the suite. */
const SLOW = 120_000

describe.each(enabledServers())('concurrent index builds on %s', (server) => {
  it.concurrent('SIGTERM mid-build: exit 143, the invalid index stays; the next run keeps steps 1-2, drops it and builds it again', async () => {
    const f = await fixture(server)
    try {
      await slowBuilds(f, '0.01')
      const run = startCli(['apply'], { env: f.env })
      await waitForBuild(f.url, run)
      // Writes go on while the index builds: CONCURRENTLY takes no lock that blocks them.
      await query(f.url, `SET lock_timeout = '500ms'; INSERT INTO jobs VALUES (100001, 'during-build', 1)`)
      run.child.kill('SIGTERM')
      const stopped = await run.result
      expect(stopped.code).toBe(143)
      expect(stopped.stderr).toMatch(/interrupted during \S+ step 3\/3 \(create-index jobs\.jobs_ksm_test_slow_idx\); the running statement was cancelled/)
      expect(stopped.stderr).toContain('fix: run schema:apply again: it continues after the last completed step')
      expect(await indexesOf(f.url)).toEqual([
        { name: 'jobs_code_key', valid: true },
        { name: SLOW_INDEX, valid: false },
      ])
      expect(await progressOf(f.url)).toEqual([1, 2])
      expect(await historyOf(f.url)).toEqual([])

      await slowBuilds(f, null)
      const again = await runCli(['apply'], { env: f.env })
      expect(again.stderr).toBe('')
      expect(again.code).toBe(0)
      expect(again.stdout).toContain('continuing after the steps an earlier run completed: 1, 2')
      expect(again.stdout).toContain(`step 3: dropped the invalid index ${SLOW_INDEX} an interrupted build left, to build it again`)
      expect(again.stdout).not.toMatch(/step 1\/3: CREATE/)
      expect(await indexesOf(f.url)).toEqual([
        { name: 'jobs_code_key', valid: true },
        { name: SLOW_INDEX, valid: true },
      ])
      expect(await progressOf(f.url)).toEqual([])
      expect(await historyOf(f.url)).toHaveLength(1)
      expect(await plan(f.url, f.schema, f.dir, false)).toBe(0)
    } finally {
      await f.drop()
    }
  }, SLOW)

  it.concurrent('duplicates fail a unique build: how many keys, one example, no index left, nothing recorded; once fixed it applies', async () => {
    const f = await fixture(server, { duplicates: true })
    try {
      const result = await runCli(['apply'], { env: f.env })
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        `MIGRATION FAILED: [apply] ${path.basename((await loadMigrations(f.dir))[0]?.path ?? '', '.ts')} step 1/3 (create-index jobs.jobs_code_key) failed: could not create unique index "jobs_code_key": 10 keys are duplicated, e.g. (code)=(J1) appears 2 times (SQLSTATE 23505)`,
      )
      expect(result.stderr).toContain('fix: the table holds duplicates of a key declared unique: remove or merge them')
      expect(result.stderr).toContain('SELECT code, count(*) FROM public.jobs')
      expect(result.stdout).toContain('step 1: dropped the invalid index jobs_code_key the failed build left')
      expect(await indexesOf(f.url)).toEqual([])
      expect(await progressOf(f.url)).toEqual([])

      await query(f.url, `UPDATE jobs SET code = 'J' || id`)
      const again = await runCli(['apply'], { env: f.env })
      expect(again.code).toBe(0)
      expect((await indexesOf(f.url)).map((ix) => ix.name)).toEqual(['jobs_code_key', SLOW_INDEX])
    } finally {
      await f.drop()
    }
  }, SLOW)
})

// The same executor path on every version; these run on the newest server only, to keep the suite's CLI starts down.
describe.runIf(enabledServers().includes('postgres'))('concurrent index builds on postgres: killed, cancelled, kept waiting, watched', () => {
  const server = 'postgres'

  it.concurrent('kill -9 mid-build: the server cancels the orphaned build, releases the migration lock; the next run replaces the invalid index', async () => {
    const f = await fixture(server)
    try {
      await slowBuilds(f, '0.01')
      const run = startCli(['apply'], { env: f.env })
      const pid = await waitForBuild(f.url, run)
      run.child.kill('SIGKILL')
      await run.result
      // client_connection_check_interval (set for the build) lets the server notice the dead client mid-statement.
      const deadline = Date.now() + 15_000
      while ((await query(f.url, `SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`)).length > 0) {
        if (Date.now() > deadline) throw new Error('the orphaned build kept running')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(await query(f.url, `SELECT pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()`)).toEqual([])
      expect(await indexesOf(f.url)).toContainEqual({ name: SLOW_INDEX, valid: false })

      await slowBuilds(f, null)
      const again = await runCli(['apply'], { env: f.env })
      expect(again.code).toBe(0)
      expect(again.stdout).toContain(`dropped the invalid index ${SLOW_INDEX} an interrupted build left`)
      expect(await indexesOf(f.url)).toContainEqual({ name: SLOW_INDEX, valid: true })
    } finally {
      await f.drop()
    }
  }, SLOW)

  it.concurrent('a build cancelled by another session fails the run with 57014 and leaves no invalid index', async () => {
    const f = await fixture(server)
    try {
      await slowBuilds(f, '0.01')
      const run = startCli(['apply'], { env: f.env })
      const pid = await waitForBuild(f.url, run)
      await query(f.url, `SELECT pg_cancel_backend(${pid})`)
      const result = await run.result
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`step 3: dropped the invalid index ${SLOW_INDEX} the failed build left`)
      expect(result.stderr).toMatch(/^fix: the step has no statement timeout \(SCHEMA_STATEMENT_TIMEOUT is 0\), so another session cancelled it/m)
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(
        /^MIGRATION FAILED: \[apply\] \S+ step 3\/3 \(create-index jobs\.jobs_ksm_test_slow_idx\) failed: canceling statement due to user request \(SQLSTATE 57014\)$/,
      )
      expect(await indexesOf(f.url)).toEqual([{ name: 'jobs_code_key', valid: true }])
      expect(await progressOf(f.url)).toEqual([1, 2])
    } finally {
      await f.drop()
    }
  }, SLOW)

  it.concurrent('a transaction open on the table: the build waits at most lock_timeout per attempt, writes are never blocked; after it ends a re-run converges', async () => {
    const f = await fixture(server)
    try {
      const holder = await holdLock(f.url, `UPDATE jobs SET n = n WHERE id = 1`)
      try {
        const run = startCli(['apply'], { env: f.env })
        await waitForBuild(f.url, run, /waiting/, 'jobs_code_key')
        await query(f.url, `SET lock_timeout = '500ms'; INSERT INTO jobs VALUES (100002, 'while-waiting', 1)`)
        const result = await run.result
        expect(result.code).toBe(1)
        expect(result.stdout).toMatch(/SQLSTATE 55P03\); rolled back, retry 1 of 1|canceling statement due to lock timeout/)
        // The session holds its transaction throughout: only lock_timeout can have ended each wait.
        expect(result.stderr).toMatch(/failed after 2 attempts: canceling statement due to lock timeout \(SQLSTATE 55P03\)/)
      } finally {
        await holder.release()
      }
      const again = await runCli(['apply'], { env: f.env })
      expect(again.code).toBe(0)
      expect((await indexesOf(f.url)).every((ix) => ix.valid)).toBe(true)
    } finally {
      await f.drop()
    }
  }, SLOW)

  it.concurrent('an index of the declared name but another definition: the guarded build skips it, and the post-apply check names it', async () => {
    const database = await createDatabase(server)
    try {
      await query(database.url, `${pre109(100)} CREATE INDEX call_log_created_at_idx ON call_log (status);`)
      const result = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(
        'call_log.call_log_created_at_idx: index is an index USING btree (status), declared an index USING btree (created_at)',
      )
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        'MIGRATION FAILED: [assert] the live schema does not match schema/ after applying: call_log.call_log_created_at_idx',
      )
      // Read-only, verify needs a writable session to spell the declared index: it says so.
      await query(database.url, `ALTER DATABASE ${database.name} SET default_transaction_read_only = on`)
      const verify = await runCli(['verify'], { env: { DATABASE_URL: database.url } })
      expect(verify.code).toBe(1)
      expect(verify.stderr).toContain('comparing index definitions needs a session that can create temporary tables, and this one is read-only')
      expect(verify.stderr).toMatch(/^fix: run it against the primary/m)
    } finally {
      await database.drop()
    }
  }, SLOW)

  it.concurrent('the constraint made by hand between plan and apply: the build finds its index, the attach step is left out, the check passes', async () => {
    const f = await fixture(server)
    try {
      await query(f.url, 'ALTER TABLE jobs ADD CONSTRAINT jobs_code_key UNIQUE (code)')
      const events = await applyInProcess(f)
      expect(events.filter((e) => e.type === 'step-skipped').map((e) => [e.step, e.reason])).toEqual([
        [2, 'constraint jobs_code_key on public.jobs exists already'],
      ])
      expect(events.at(-1)).toMatchObject({ type: 'verified', indexes: 2 })
    } finally {
      await f.drop()
    }
  }, SLOW)

  it.concurrent('a long build reports its progress from pg_stat_progress_create_index', async () => {
    const f = await fixture(server)
    try {
      // Before connecting: a session reads the database's settings when it starts.
      await slowBuilds(f, '0.01')
      const events = await applyInProcess(f, 200)
      const progress = events.filter((e) => e.type === 'build-progress')
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.every((e) => e.step === 3 && e.steps === 3)).toBe(true)
      expect(progress.map((e) => e.phase)).toContain('building index: scanning table')
    } finally {
      await f.drop()
    }
  }, SLOW)
})
