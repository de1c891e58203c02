/**
 * `npm run bench`: this migrator against its floors and peers, in one run on
 * one machine. Prints the targets and writes bench/RESULTS.md,
 * bench/results.json and bench/ratios.svg.
 *
 * BENCH_PAIRS (default 9) sets the alternated pairs per comparison;
 * BENCH_SIZES (100,300,1000,3000) the wide databases' table counts;
 * BENCH_RUNS (5) the runs of the apply-by-size section; BENCH_BIG_ROWS
 * (1,000,000) its large call_log; BENCH_SUITE=0 skips timing `npm test`.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type ApplyBySize, chart, LOCK_TIMEOUT_MS, type Phase, renderReport, renderTargets, type Results, type SuiteResult } from './report.js'
import { APPLY_109_110, measureSpeed } from './speed.js'
import { latenciesWhile } from './support/load.js'
import { median, percentile, runOnce } from './support/measure.js'
import { describeRun, KEPT_MARKER, type Server, startServer } from './support/server.js'
import { pre109Sql } from './support/wide-schema.js'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH, '..')
const PAIRS = Number(process.env.BENCH_PAIRS ?? 9)
const SIZES = (process.env.BENCH_SIZES ?? '100,300,1000,3000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000)
const WORK = path.join(REPO, '.tmp', 'bench')
const node = process.execPath
const builtCli = (args: string[]) => [path.join(REPO, 'dist/src/cli/bin.js'), ...args]
const log = (text: string) => process.stderr.write(`bench: ${text}\n`)

const RESULTS_JSON = path.join(BENCH, 'results.json')
/** Migrations 109 and 110 on the pre-109 call_log, as the apply row runs them (speed.ts writes the files); not 0004's index builds. */
const APPLY_109_110_ENV = { SCHEMA_MODULE: path.join(WORK, APPLY_109_110.schema), SCHEMA_MIGRATIONS_DIR: path.join(WORK, APPLY_109_110.migrations) }

async function main() {
  // `--report-only` re-renders RESULTS.md and the chart from the last run's results.json.
  if (process.argv.includes('--report-only')) return writeReport(JSON.parse(await readFile(RESULTS_JSON, 'utf8')) as Results)
  // Every command here picks its own target; an inherited DATABASE_URL would turn the embedded runs into server runs.
  delete process.env.DATABASE_URL
  delete process.env.NODE_ENV
  await rm(WORK, { recursive: true, force: true })
  await mkdir(WORK, { recursive: true })
  log('compiling (npm run build) for the compiled-CLI measurements')
  execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' })
  const loadAtStart = os.loadavg()

  const server = await startServer()
  let results: Omit<Results, 'suite'>
  try {
    const speed = await measureSpeed({ server, repo: REPO, bench: BENCH, work: WORK, pairs: PAIRS, sizes: SIZES, log })
    const apply = await applyBySize(server)
    const workload = await applicationWorkload(server)
    results = { speed, apply, workload, pairs: PAIRS, versions: { ...(await versions(server)), loadAtStart: loadAtStart.map((l) => Number(l.toFixed(2))) } }
  } finally {
    await server.stop()
  }
  const suite = process.env.BENCH_SUITE === '0' ? null : timeSuite()
  // Recorded commands name this checkout, its temp folders and the throwaway server's password: keep none.
  const recorded = JSON.stringify({ ...results, suite }, null, 2).replaceAll(REPO, '.').replaceAll(':bench@', ':***@').replaceAll('"PGPASSWORD": "bench"', '"PGPASSWORD": "***"')
  await writeFile(RESULTS_JSON, `${recorded}\n`)
  log('wrote bench/results.json')
  await writeReport(JSON.parse(recorded) as Results)
}

/** `npm test`, once, timed whole: the suite's wall time target. */
function timeSuite(): SuiteResult {
  log('npm test (BENCH_SUITE=0 skips it)')
  const load = os.loadavg()[0] ?? 0
  const started = performance.now()
  let code = 0
  try {
    // Its output stays in .tmp/bench/npm-test.log, for when it fails.
    execFileSync('sh', ['-c', `npm test > '${path.join(WORK, 'npm-test.log')}' 2>&1`], { cwd: REPO, stdio: 'ignore' })
  } catch (error) {
    code = (error as { status?: number }).status ?? 1
  }
  return { ms: performance.now() - started, code, load: [load, os.loadavg()[0] ?? 0] }
}

async function writeReport(results: Results): Promise<void> {
  // Sections other bench scripts write (index builds, backfill) come after KEPT_MARKER and are kept.
  await writeFile(path.join(BENCH, 'RESULTS.md'), renderReport(results) + (await keptSections()))
  await writeFile(path.join(BENCH, 'ratios.svg'), chart(results.speed))
  process.stdout.write(`${renderTargets(results)}\n`)
  log('wrote bench/RESULTS.md and bench/ratios.svg')
}

/** Sections other bench scripts append to RESULTS.md (`bench/index-build.ts`, `bench/backfill.ts`): kept when this report is rewritten. */
async function keptSections(): Promise<string> {
  const text = await readFile(path.join(BENCH, 'RESULTS.md'), 'utf8').catch(() => '')
  const at = text.indexOf(KEPT_MARKER)
  return at < 0 ? '' : `\n${text.slice(at)}`
}

// ---------------------------------------------------------------- 3. apply by table size


async function applyBySize(server: Server): Promise<ApplyBySize[]> {
  const results: ApplyBySize[] = []
  for (const rows of [10_000, BIG_ROWS]) {
    log(`apply of the 109 columns on call_log with ${rows} rows`)
    const template = `pre109_${rows}`
    await server.query('postgres', `CREATE DATABASE ${template}`)
    await server.query(template, pre109Sql(rows))
    await server.query(template, 'VACUUM ANALYZE call_log')
    const totals: number[] = []
    const held: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const db = `${template}_${i}`
      await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE ${template}`)
      const run = await runOnce(node, builtCli(['apply', '--json']), {
        cwd: REPO,
        env: { NODE_ENV: 'production', DATABASE_URL: server.url(db), ...APPLY_109_110_ENV },
      })
      if (run.code !== 0) throw new Error(`apply failed: ${run.stdout}${run.stderr}`)
      const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; migration?: string; ms?: number })
      const committed = events.find((e) => e.event === 'migration-committed' && e.migration?.startsWith('0002_'))
      totals.push(run.ms)
      held.push(committed?.ms ?? Number.NaN)
      await server.query('postgres', `DROP DATABASE ${db}`)
    }
    results.push({ rows, totalMs: median(totals), lockHeldMs: median(held) })
  }
  return results
}

// ---------------------------------------------------------------- 4. the application under load


async function applicationWorkload(server: Server): Promise<Phase[]> {
  log('application workload: before, during apply, during apply with a long-running reader')
  await server.query('postgres', 'CREATE DATABASE workload')
  await server.query('workload', pre109Sql(100_000))
  const phases: Phase[] = []
  let copy = 0
  const fresh = async () => {
    const db = `workload_${copy++}`
    await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE workload`)
    return db
  }

  phases.push(await underLoad(server, await fresh(), 'steady load, no migration', async () => {
    await sleep(3000)
    return 0
  }))
  phases.push(await underLoad(server, await fresh(), `during schema:apply (lock_timeout ${LOCK_TIMEOUT_MS} ms)`, (db) => applyNow(server, db)))
  phases.push(
    await underLoad(server, await fresh(), 'during schema:apply, with a 5 s reader holding ACCESS SHARE', async (db) => {
      const reader = new pg.Client({ connectionString: server.url(db) })
      await reader.connect()
      await reader.query('BEGIN')
      await reader.query('SELECT count(*) FROM call_log')
      const release = sleep(5000).then(() => reader.query('COMMIT')).then(() => reader.end())
      const ms = await applyNow(server, db)
      await release
      return ms
    }),
  )
  return phases
}

async function applyNow(server: Server, db: string): Promise<number> {
  const run = await runOnce(node, builtCli(['apply']), {
    cwd: REPO,
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: server.url(db),
      ...APPLY_109_110_ENV,
      SCHEMA_LOCK_TIMEOUT: `${LOCK_TIMEOUT_MS}ms`,
      SCHEMA_LOCK_RETRIES: '10',
    },
  })
  if (run.code !== 0) throw new Error(`apply under load failed: ${run.stderr}`)
  return run.ms
}

/** Four clients insert and read call_log rows in a loop; latencies are kept only while `during` runs. */
async function underLoad(server: Server, db: string, label: string, during: (db: string) => Promise<number>): Promise<Phase> {
  const { latencies, result: applyMs } = await latenciesWhile(
    server.url(db),
    4,
    async (client, n, i) => {
      const t0 = performance.now()
      const { rows } = await client.query('INSERT INTO call_log (call_sid) VALUES ($1) RETURNING id', [`load-${n}-${i}`])
      const t1 = performance.now()
      await client.query('SELECT * FROM call_log WHERE id = $1', [rows[0]?.id])
      return [t1 - t0, performance.now() - t1]
    },
    () => during(db),
  )
  return { label, queries: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), applyMs }
}

async function versions(server: Server) {
  const pkg = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version
  return {
    ...(await describeRun(server, REPO)),
    pglite: await pkg(path.join(REPO, 'node_modules/@electric-sql/pglite/package.json')),
    kyselyCodegen: await pkg(path.join(BENCH, 'node_modules/kysely-codegen/package.json')),
    migra: await pkg(path.join(BENCH, 'node_modules/@pgkit/migra/package.json')),
  }
}

export type Versions = Awaited<ReturnType<typeof versions>> & { loadAtStart: number[] }

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

await main()
