import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it, type TestContext } from 'vitest'
import { BACKFILL_LOCK_CLASS, backfillLockKey } from '../src/backfill/lock.js'
import {
  callLogRows,
  eventually,
  midRun,
  NEEDS_IT,
  neededIn,
  outcomeOf,
  progressOf,
  schemaWith,
} from './support/backfill.js'
import { PROJECT_MIGRATIONS, PROJECT_SCHEMA, runInProcess, startCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109 } from './support/fixtures.js'
import { writeHandMigrations } from './support/hand-migrations.js'
import { useScratchDir } from './support/scratch.js'
import { holdLock, query } from './support/sessions.js'
import { enabledTargets } from './support/targets.js'

/**
 * `schema:backfill` on a real PostgreSQL, through the CLI process the compose
 * `backfill` service runs: exactness, kill -9 and SIGTERM mid-run, rows held
 * by the application, concurrent runners, apply running meanwhile, inserts
 * during the run, and bad definitions refused before any write.
 */

const SUCCESS_WORDING = /success|completed|✓|all good/i
const scratch = useScratchDir('backfill')

/** Slow enough to be caught mid-run: batches of at most 2,000 rows, 50 ms apart. */
const THROTTLED = { 'batch-max': '2000', 'batch-pause': '50ms' }
/** What the compose service sets: a process of its own needs no more. */
const PRODUCTION = { env: { NODE_ENV: 'production' } }

/** The backends a backfill run leaves behind: none, once it has exited. */
const lingering = (url: string) =>
  query(url, `SELECT pid FROM pg_stat_activity WHERE application_name = 'schema-backfill' AND datname = current_database()`)

/** Resolves with the backfill's backend pid once one of its statements waits for a lock. */
async function waitingBackfill(url: string): Promise<number> {
  let pid = 0
  await eventually(async () => {
    const rows = await query<{ pid: number }>(url, `SELECT pid FROM pg_stat_activity
        WHERE application_name = 'schema-backfill' AND wait_event_type = 'Lock' AND datname = current_database()`)
    pid = rows[0]?.pid ?? 0
    return pid !== 0
  }, 'the backfill waits for a lock')
  return pid
}

describe.runIf(enabledTargets().includes('postgres')).concurrent('schema:backfill on PostgreSQL', () => {
  /** A new database, dropped when the test ends (tests here run concurrently, each on its own). */
  const freshDatabase = async ({ onTestFinished }: TestContext) => {
    const database = await createDatabase()
    onTestFinished(() => database.drop())
    return database
  }
  /**
   * A database holding `callLogRows(rows)`; the rows in it that need filling;
   * and `flags(extra)`, the target and settings a run against it takes (as
   * flags, the same for a run in-process and a process of its own).
   */
  const setUp = async (context: TestContext, rows: number, options: { evenIds?: boolean } = {}) => {
    const database = await freshDatabase(context)
    await query(database.url, callLogRows(rows, options))
    const [{ needed } = { needed: -1 }] = await query<{ needed: number }>(database.url, `SELECT count(*)::int AS needed FROM call_log WHERE ${NEEDS_IT}`)
    const flags = (extra: Record<string, string> = {}) =>
      Object.entries({ 'database-url': database.url, 'lock-timeout': '1s', 'lock-retries': '2', ...extra }).flatMap(([flag, value]) => [`--${flag}`, value])
    return { url: database.url, flags, needed }
  }

  it('fills 200,000 rows exactly: each needing row once, to the right value, no other row; a re-run is a quick no-op', async (context) => {
    const { url, flags, needed } = await setUp(context, 200_000)
    const result = await runInProcess(['backfill', ...flags()])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('call_log_duration_sec: starting: call_log.duration_sec where duration_sec IS NULL')
    expect(result.stdout).toMatch(/call_log_duration_sec: check: no row up to id=200000 still needs it \(200,000 rows read\)/)
    expect(result.stdout).toMatch(/finished: 154,286 rows filled in \d+ batch(es)? over 200,000 rows walked/)
    expect(result.stdout.trim().split('\n').at(-1)).toBe(
      'Backfills: 1 finished and checked (call_log_duration_sec: 154,286 rows filled); 0 finished earlier.',
    )
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: 154_286 })
    expect(await progressOf(url)).toMatchObject({ last_key: ['200000'], rows_done: 154_286, finished_at: expect.any(Date) })

    const again = await runInProcess(['backfill', ...flags()])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/call_log_duration_sec: finished earlier \(.*, 154,286 rows filled\); nothing to do/)
    expect(again.stdout).toContain('Backfills: 0 finished and checked; 1 finished earlier (call_log_duration_sec).')
    expect((await outcomeOf(url, 0)).updates).toBe(154_286)
  })

  it('kill -9 mid-run: the re-run resumes after the last committed batch; nothing skipped, nothing done twice', async (context) => {
    const { url, flags, needed } = await setUp(context, 30_000)
    const run = startCli(['backfill', ...flags(THROTTLED)], PRODUCTION)
    await midRun(url)
    run.child.kill('SIGKILL')
    expect((await run.result).signal).toBe('SIGKILL')
    // Its backend ends once it finds the client gone, rolling back the batch it had open.
    await eventually(async () => (await lingering(url)).length === 0, 'the killed run has no session left')
    const saved = await progressOf(url)
    expect(saved?.finished_at).toBeNull()
    expect(saved?.rows_done).toBeGreaterThan(0)
    // What the killed run committed is exactly what its progress row says.
    expect((await outcomeOf(url, 0)).updates).toBe(saved?.rows_done)

    const rerun = await runInProcess(['backfill', ...flags()])
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toContain(`call_log_duration_sec: resuming after id=${saved?.last_key?.[0]} (${saved?.rows_done.toLocaleString('en')} rows filled before)`)
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
    expect((await progressOf(url))?.rows_done).toBe(outcome.needed)
  })

  it('SIGTERM mid-run: exits 143 promptly with its progress saved; the next run resumes', async (context) => {
    const { url, flags, needed } = await setUp(context, 30_000)
    const run = startCli(['backfill', ...flags(THROTTLED)], PRODUCTION)
    await midRun(url)
    const signalled = performance.now()
    run.child.kill('SIGTERM')
    const result = await run.result
    const exitMs = performance.now() - signalled

    expect(result.code).toBe(143)
    expect(exitMs).toBeLessThan(5_000)
    expect(result.stderr).toMatch(
      /^BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: interrupted during its walk after id=\d+; the open batch was rolled back, and the progress of every committed batch is saved$/m,
    )
    expect(result.stdout + result.stderr).not.toMatch(SUCCESS_WORDING)
    await eventually(async () => (await lingering(url)).length === 0, 'the interrupted run has no session left', 2_000)
    const saved = await progressOf(url)
    expect(saved).toMatchObject({ finished_at: null })
    expect(saved?.rows_done).toBeGreaterThan(0)
    expect((await outcomeOf(url, 0)).updates).toBe(saved?.rows_done)

    const rerun = await runInProcess(['backfill', ...flags()])
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toContain(`resuming after id=${saved?.last_key?.[0]}`)
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
  })

  it('SIGTERM while it waits for a held row ends the wait at once and exits 143', async (context) => {
    const { url, flags } = await setUp(context, 10_000)
    const holder = await holdLock(url, 'SELECT * FROM call_log WHERE id = 5001 FOR UPDATE')
    try {
      const run = startCli(['backfill', ...flags({ 'lock-timeout': '60s' })], PRODUCTION)
      // The rows before the held one are filled and recorded; then it waits for that row alone.
      await eventually(async () => (await progressOf(url))?.last_key?.[0] === '5000', 'the rows before the held one are filled')
      await waitingBackfill(url)
      const signalled = performance.now()
      run.child.kill('SIGTERM')
      const result = await run.result
      expect(result.code).toBe(143)
      expect(performance.now() - signalled).toBeLessThan(5_000)
      expect(result.stderr).toMatch(/BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: interrupted during its walk after id=5000;/)
      expect((await progressOf(url))?.last_key).toEqual(['5000'])
    } finally {
      await holder.release()
    }
  })

  it('a session holding 100 rows for 3 seconds delays the job, never fails it, and it holds nothing while it waits', async (context) => {
    const { url, flags, needed } = await setUp(context, 10_000)
    const holder = await holdLock(url, 'SELECT * FROM call_log WHERE id BETWEEN 5001 AND 5100 FOR UPDATE')
    const heldAt = performance.now()
    const run = runInProcess(['backfill', ...flags({ 'lock-timeout': '2s', 'lock-retries': '3' })])
    const app = new pg.Client({ connectionString: url })
    await app.connect()
    await waitingBackfill(url)
    // The job waits for row 5001 alone: a row after it, which it will fill next, is free for the application
    // (were it held, this update would wait up to the job's lock_timeout of 2 s).
    const appStarted = performance.now()
    await app.query(`UPDATE call_log SET status = 'app' WHERE id = 5201`)
    const appMs = performance.now() - appStarted
    await app.end()
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3_000 - (performance.now() - heldAt))))
    await holder.release()
    const result = await run

    expect(result.code).toBe(0)
    expect(appMs).toBeLessThan(1_000)
    expect(result.stdout).toContain('call_log_duration_sec: row id=5001 is held by another session; the next batch waits for it first')
    expect(result.ms).toBeGreaterThan(3_000)
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
  })

  it('a row held through every retry fails the run naming the row and its holder; nothing is skipped and a re-run finishes', async (context) => {
    const { url, flags, needed } = await setUp(context, 10_000)
    const holder = await holdLock(url, 'SELECT * FROM call_log WHERE id = 7001 FOR UPDATE')
    let result
    try {
      result = await runInProcess(['backfill', ...flags({ 'lock-timeout': '300ms', 'lock-retries': '1' })])
    } finally {
      await holder.release()
    }
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/row id=7001 still held by backend pid \d+ \(app-long-reader\): canceling statement due to lock timeout \(SQLSTATE 55P03\); rolled back the batch, retry 1 of 1/)
    expect(result.stderr).toMatch(
      /^BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: row id=7001 of call_log stayed held by another session \(backend pid \d+ \(app-long-reader\)\) through 2 waits of lock_timeout 300ms; the batch was rolled back and no row was skipped$/m,
    )
    expect(result.stderr).toContain('fix: find the session')
    expect(await progressOf(url)).toMatchObject({ last_key: ['7000'], finished_at: null })
    expect(await query(url, `SELECT count(*)::int AS n FROM call_log WHERE id > 7000 AND ${NEEDS_IT}`)).toEqual([{ n: neededIn(10_000) - neededIn(7_000) }])

    const rerun = await runInProcess(['backfill', ...flags()])
    expect(rerun.code).toBe(0)
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
  })

  it('two runners at once: one fills, the other waits for it and finds it finished; nothing done twice', async (context) => {
    const { url, flags, needed } = await setUp(context, 20_000)
    const runs = [0, 1].map(() => runInProcess(['backfill', ...flags({ ...THROTTLED, 'batch-pause': '10ms', 'lock-wait': '60s' })]))
    const results = await Promise.all(runs)

    expect(results.map((r) => r.code)).toEqual([0, 0])
    const [filled, waited] = results[0]?.stdout.includes('finished and checked (call_log') ? results : [...results].reverse()
    expect(filled?.stdout).toContain('Backfills: 1 finished and checked')
    expect(waited?.stdout).toMatch(/call_log_duration_sec: another runner is running it \(backend pid \d+ \(schema-backfill\)\); waiting for it to finish/)
    expect(waited?.stdout).toContain('call_log_duration_sec: finished earlier')
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
  })

  it('a runner that cannot get the backfill in time exits 1 naming the runner that has it, having written nothing', async (context) => {
    const { url, flags } = await setUp(context, 1_000)
    const other = new pg.Client({ connectionString: url, application_name: 'other-backfill' })
    await other.connect()
    await other.query('SELECT pg_advisory_lock($1, $2)', [BACKFILL_LOCK_CLASS, backfillLockKey('call_log_duration_sec')])
    try {
      const result = await runInProcess(['backfill', ...flags({ 'lock-wait': '500ms' })])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(
        /BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: another runner is running it \(advisory lock 72616002\/\d+, backend pid \d+ \(other-backfill\)\) and did not finish within 1s; this run wrote nothing for it/,
      )
      expect((await outcomeOf(url, 0)).updates).toBe(0)
    } finally {
      await other.end()
    }
  })

  it('does not hold up schema:apply: a migration on the same table applies while the backfill runs', async (context) => {
    const { url, flags, needed } = await setUp(context, 30_000)
    const dir = await mkdtemp(path.join(scratch(), 'apply-'))
    await writeHandMigrations(dir, [
      { name: '0001_call_log_add_note', steps: [{ sql: 'ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "note" text', lock: 'ACCESS EXCLUSIVE' }] },
    ])
    const schema = await schemaWith(await mkdtemp(path.join(scratch(), 'schema-')), 'with-note.ts', '', ' note: c.text(),')
    // Paced to outlast apply even on a busy machine: 30,000 rows at 2,000 rows/s take at least 15 s.
    const backfill = runInProcess(['backfill', ...flags({ 'batch-max': '500', 'max-rate': '2000' })])
    await midRun(url)
    const apply = await runInProcess(['apply', '--json', '--migrations', dir, '--schema', schema, ...flags({ 'lock-timeout': '5s' })])
    expect(apply.stderr).toBe('')
    expect(apply.code).toBe(0)
    // Its ACCESS EXCLUSIVE lock on call_log waited at most for the batch in progress, at the first attempt.
    const events = apply.stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(events.filter((e) => e.event === 'retrying')).toEqual([])
    expect(events.find((e) => e.event === 'tables-locked')?.ms).toBeLessThan(2_000)
    expect((await progressOf(url))?.finished_at).toBeNull()

    const result = await backfill
    expect(result.code).toBe(0)
    const outcome = await outcomeOf(url, needed)
    expect(outcome).toEqual({ wrong: 0, left: 0, updates: outcome.needed, rowsUpdated: outcome.needed, needed: outcome.needed })
  })

  it('rows an application writes during the run, after the walk and behind it, are all filled before it finishes', async (context) => {
    // Even ids only, so that the application can insert odd ids behind the walk, as a key allocated early and committed late would land.
    const { url, flags } = await setUp(context, 20_000, { evenIds: true })
    const run = runInProcess(['backfill', '--json', ...flags({ 'batch-max': '1000', 'batch-pause': '50ms' })])
    const app = new pg.Client({ connectionString: url, application_name: 'app' })
    await app.connect()
    let inserted = 0
    try {
      await midRun(url)
      // Until the walk is three quarters through: one call at the end of the table, one behind the walk's position.
      for (let i = 0; ; i++) {
        const progress = await progressOf(url)
        const reached = Number(progress?.last_key?.[0] ?? 0)
        if (reached >= 30_000) break
        const timing = `timestamptz '2024-06-01', timestamptz '2024-06-01' + interval '42.5 seconds'`
        await app.query(`INSERT INTO call_log (call_sid, started_at, ended_at) VALUES ('app-tail-${i}', ${timing})`)
        await app.query(`INSERT INTO call_log (id, call_sid, started_at, ended_at) VALUES (${reached - 1 - 2 * (i % 50)}, 'app-behind-${i}', ${timing}) ON CONFLICT DO NOTHING`)
        inserted += 2
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      await app.end()
    }
    const result = await run
    expect(result.code).toBe(0)
    expect(inserted).toBeGreaterThanOrEqual(4)
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(events.find((e) => e.event === 'final-pass')?.rows).toBeGreaterThan(0)
    expect(events.find((e) => e.event === 'caught-up')?.rows).toBeGreaterThan(0)
    expect(events.find((e) => e.event === 'checked')).toMatchObject({ remaining: 0 })
    expect(await query(url, `SELECT count(*)::int AS n FROM call_log WHERE ${NEEDS_IT}`)).toEqual([{ n: 0 }])
    expect(await query(url, `SELECT count(*)::int AS n FROM call_log WHERE call_sid LIKE 'app-%' AND duration_sec <> 42`)).toEqual([{ n: 0 }])
    const audit = await query<{ updates: number; rows: number }>(
      url,
      `SELECT count(*)::int AS updates, count(DISTINCT id)::int AS rows FROM backfill_audit WHERE by = 'schema-backfill'`,
    )
    expect(audit[0]?.updates).toBe(audit[0]?.rows)
  })

  it('a column schema/ declares but the database lacks fails before any write, naming it; plan names the backfill that will fill it', async (context) => {
    const database = await freshDatabase(context)
    await query(database.url, pre109(1_000))
    const result = await runInProcess(['backfill', '--database-url', database.url])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: it sets call_log.duration_sec, which the database does not have; nothing was written$/m,
    )
    expect(result.stderr).toContain('fix: run schema:apply first')
    expect(await query(database.url, `SELECT to_regclass('schema_migrate.backfills') AS progress`)).toEqual([{ progress: null }])

    // What schema:plan says of the column meanwhile: which backfill fills its existing rows after apply.
    const plan = await runInProcess(['plan', '--dry-run', '--database-url', database.url, '--migrations', await mkdtemp(path.join(scratch(), 'plan-'))])
    expect(plan.stdout).toContain(
      '3. add column call_log.duration_sec\n   ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "duration_sec" integer\n   lock: ACCESS EXCLUSIVE · lock_timeout 5s · statement_timeout 0\n   existing rows: filled after apply by backfill call_log_duration_sec (schema:backfill)\n',
    )
    expect(plan.stdout.match(/filled after apply/g)).toHaveLength(1)
  })

  it('a definition naming a missing column, or a table without a primary key, fails before any backfill writes', async (context) => {
    const { url, flags } = await setUp(context, 1_000)
    const dir = await mkdtemp(path.join(scratch(), 'invalid-'))
    const good = `backfill('fills_first', callLog, { set: { summary_status: "'x'" }, where: 'summary_status IS NULL' })`
    const typo = await schemaWith(dir, 'typo.ts', `${good}, backfill('typo', callLog, { set: { duration_sec: '1' }, where: 'duration_sec IS NULL AND ended IS NOT NULL' })`)
    const result = await runInProcess(['backfill', '--schema', typo, ...flags()])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/BACKFILL FAILED: \[backfill\] backfill typo: PostgreSQL rejects its SQL: column "ended" does not exist \(SQLSTATE 42703\); nothing was written/)
    expect(result.stderr).toMatch(/fix: if schema\/ declares that column, run schema:apply first .* otherwise fix the column name in the backfill's set or where \(.*typo\.ts:\d+\)/)
    expect(await query(url, `SELECT count(*)::int AS n FROM call_log WHERE summary_status IS NOT NULL`)).toEqual([{ n: 0 }])

    await query(url, 'ALTER TABLE call_log DROP CONSTRAINT call_log_pkey')
    const keyless = await runInProcess(['backfill', ...flags()])
    expect(keyless.code).toBe(1)
    expect(keyless.stderr).toMatch(/BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: call_log has no primary key; a backfill walks its table in primary key order/)
    expect(keyless.stderr).toContain('fix: give call_log a primary key')
    expect((await outcomeOf(url, 0)).updates).toBe(0)
  })

  it('a changed definition is refused unless --rerun asks for it, which walks the table again from the start', async (context) => {
    const { url, flags } = await setUp(context, 5_000)
    expect((await runInProcess(['backfill', ...flags()])).code).toBe(0)
    const dir = await mkdtemp(path.join(scratch(), 'changed-'))
    const changed = await schemaWith(
      dir,
      'changed.ts',
      `backfill('call_log_duration_sec', callLog, { set: { duration_sec: 'round(extract(epoch FROM ended_at - started_at))::integer' }, where: 'duration_sec IS NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL' })`,
    )
    const refused = await runInProcess(['backfill', '--schema', changed, ...flags()])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/BACKFILL FAILED: \[backfill\] backfill call_log_duration_sec: its definition changed since it started on .* nothing was written/)
    expect(refused.stderr).toContain('fix: if the change is meant, run schema:backfill --rerun call_log_duration_sec')

    await query(url, `UPDATE call_log SET duration_sec = NULL WHERE id = 42`)
    const rerun = await runInProcess(['backfill', '--schema', changed, '--rerun', 'call_log_duration_sec', ...flags()])
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toContain('started again from the beginning (--rerun)')
    expect(rerun.stdout).toContain('Backfills: 1 finished and checked (call_log_duration_sec: 1 row filled)')
    expect(await query(url, 'SELECT duration_sec FROM call_log WHERE id = 42')).toEqual([{ duration_sec: 43 }])
    expect((await runInProcess(['backfill', '--schema', changed, ...flags()])).stdout).toContain('finished earlier')
  })

  it('on a terminal, a progress bar (rows walked of the estimate, rate, time left), cleared before each line', async (context) => {
    const { flags } = await setUp(context, 20_000)
    const result = await runInProcess(['backfill', ...flags(THROTTLED)], { terminal: true })
    expect(result.code).toBe(0)
    const bars = result.status.filter((line) => line !== '')
    expect(bars.length).toBeGreaterThan(0)
    for (const bar of bars) {
      expect(bar).toMatch(/^call_log_duration_sec \[[#-]{20}\] \d+% [\d,]+\/~[\d,]+ rows walked · [\d,]+ filled · [\d,]+ rows\/s · (about \S+ left|time left unknown)$/)
    }
    // The bar is cleared before the lines that follow it, and plain progress lines are left to logs.
    expect(result.status.at(-1)).toBe('')
    expect(result.stdout).not.toMatch(/\d+% [\d,]+\/~/)
  })

  it('--json prints one JSON event per line, ending with the outcome', async (context) => {
    const { flags } = await setUp(context, 2_000)
    const ok = await runInProcess(['backfill', '--json', ...flags()])
    expect(ok.code).toBe(0)
    const events = ok.stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['target', 'declared', 'started', 'batch', 'final-pass', 'checked', 'finished']))
    expect(events.at(-1)).toMatchObject({ event: 'summary', ok: true, backfills: [{ backfill: 'call_log_duration_sec', outcome: 'finished', rows: neededIn(2_000) }] })

    const refused = await runInProcess(['backfill', '--json', '--rerun', 'nope', ...flags()])
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({ event: 'failed', ok: false, message: expect.stringMatching(/^BACKFILL FAILED: \[settings\] --rerun names "nope"/) })
  })
})

describe('schema:backfill refuses bad input before connecting', () => {
  const unreachable = ['--database-url', 'postgres://u:pw-unused@127.0.0.1:1/db']

  it('backfills that name undeclared columns, key columns, other tables or a name twice are listed at once', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'declarations-'))
    const schema = await schemaWith(
      dir,
      'bad.ts',
      [
        `backfill('one', callLog, { set: { nope: '1' } as never, where: 'true' })`,
        `backfill('one', callLog, { set: { id: '1' }, where: 'id > 0' })`,
        `backfill('has space', callLog, { set: { status: "'x'" }, where: ' ' })`,
        `backfill('elsewhere', table('other', { id: c.integer().primaryKey() }), { set: { id: '1' }, where: 'true' })`,
      ].join(', '),
    )
    const result = await runInProcess(['backfill', '--schema', schema, ...unreachable])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('the declared backfills are invalid:')
    expect(result.stderr).toMatch(/- backfill one \(.*bad\.ts:\d+\): sets nope, which call_log does not declare/)
    expect(result.stderr).toMatch(/- backfill one \(.*\): another backfill has the same name/)
    expect(result.stderr).toMatch(/- backfill one \(.*\): sets id, a primary key column/)
    expect(result.stderr).toMatch(/- backfill has space \(.*\): the name must be/)
    expect(result.stderr).toMatch(/- backfill has space \(.*\): `where` must be the SQL condition/)
    expect(result.stderr).toMatch(/- backfill elsewhere \(.*\): its table other is not in defineSchema/)
    expect(result.stderr).not.toContain('ECONNREFUSED')
  })

  it('an unknown --rerun name and bad pace settings are refused', async () => {
    const rerun = await runInProcess(['backfill', '--rerun', 'nope', ...unreachable])
    expect(rerun.code).toBe(1)
    expect(rerun.stderr).toContain('--rerun names "nope", which schema/ does not declare')
    expect(rerun.stderr).toContain('fix: declared backfills: call_log_duration_sec')
    const pace = await runInProcess(['backfill', '--batch-min', '500', '--batch-max', '100', ...unreachable])
    expect(pace.code).toBe(1)
    expect(pace.stderr).toContain('backfill batch sizes 500 to 100 are not a range')
    const rate = await runInProcess(['backfill', '--max-rate=-5', ...unreachable])
    expect(rate.code).toBe(1)
    expect(rate.stderr).toContain('backfill rate limit "-5" is not a whole number')
  })

  it('schema:check plans each backfill on its replayed database: SQL PostgreSQL rejects is drift, exit 2', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'check-'))
    const typo = await schemaWith(dir, 'typo.ts', `backfill('typo', callLog, { set: { duration_sec: 'extract(epoch FROM ended - started_at)' }, where: 'duration_sec IS NULL' })`, '', {
      projectIndexes: true,
    })
    const result = await runInProcess(['check', '--schema', typo, '--migrations', PROJECT_MIGRATIONS])
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('backfill typo: PostgreSQL rejects its SQL: column "ended" does not exist (SQLSTATE 42703)')
    expect(result.stdout).toContain('fix the backfill declarations in schema/')
    const project = await runInProcess(['check', '--migrations', PROJECT_MIGRATIONS])
    expect(project.code).toBe(0)
  })

  it('the project schema declares the call_log backfill', async () => {
    const { loadBackfills } = await import('../src/backfill/load.js')
    const { loadSchema } = await import('../src/load-schema.js')
    await loadSchema(PROJECT_SCHEMA)
    const [model] = await loadBackfills(PROJECT_SCHEMA)
    expect(model).toMatchObject({
      name: 'call_log_duration_sec',
      table: { schema: 'public', name: 'call_log' },
      set: [{ column: 'duration_sec', sql: 'floor(extract(epoch FROM ended_at - started_at))::integer' }],
      where: NEEDS_IT,
    })
  })
})

