import { existsSync } from 'node:fs'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_MIGRATIONS, PROJECT_SCHEMA, REPO, runCli, runInProcess } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { NEW_COLUMNS, pre109 } from './support/fixtures.js'
import { holdLock } from './support/sessions.js'
import { useScratchDir } from './support/scratch.js'
import { enabledTargets } from './support/targets.js'

const PRE_109 = pre109(1000)

const workDir = useScratchDir('cli')

describe.concurrent('embedded default (no DATABASE_URL)', () => {
  it('plans call_log on PGlite in ./.pglite and says so on stderr', async () => {
    const cwd = await mkdtemp(path.join(workDir(), 'embedded-'))
    const result = await runCli(['plan', '--schema', PROJECT_SCHEMA], { cwd })
    expect(result.stderr).toContain('DATABASE_URL is not set; using the embedded PGlite database in .pglite/')
    expect(result.stdout).toContain('1. create table call_log')
    expect(result.stdout).toContain('CREATE TABLE IF NOT EXISTS "public"."call_log"')
    expect(result.code).toBe(0)
    expect(existsSync(path.join(cwd, '.pglite'))).toBe(true)
  })

  it('on a fresh clone, plans call_log and writes nothing while the committed migrations are pending', async () => {
    const cwd = await mkdtemp(path.join(workDir(), 'fresh-'))
    const before = await readdir(PROJECT_MIGRATIONS)
    const result = await runCli(['plan', '--schema', PROJECT_SCHEMA, '--migrations', PROJECT_MIGRATIONS], { cwd })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('1. create table call_log')
    expect(result.stdout).toContain(
      'Not written: 4 generated migrations are not applied to this database yet (0001_create_call_log, 0002_call_log_add_started_at_ended_at_duration_sec, 0003_call_log_add_summary_status, 0004_call_log_index_call_sid_key_created_at_idx). 1 step above is already in them. Apply them first (npm run schema:apply), then plan again.',
    )
    expect(await readdir(PROJECT_MIGRATIONS)).toEqual(before)
  })

  it('refuses under NODE_ENV=production, creating nothing', async () => {
    const cwd = await mkdtemp(path.join(workDir(), 'production-'))
    const result = await runCli(['plan', '--schema', PROJECT_SCHEMA], { cwd, env: { NODE_ENV: 'production' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('DATABASE_URL is not set and NODE_ENV=production')
    expect(result.stdout).toBe('')
    expect(existsSync(path.join(cwd, '.pglite'))).toBe(false)
  })
})

describe.concurrent('bad input fails before any database work, exit 1', () => {
  it('a schema module that throws on import names the file', async () => {
    const file = path.join(workDir(), 'broken-schema.ts')
    await writeFile(file, `throw new Error('boom at import')\n`)
    const result = await runCli(['verify', '--schema', file], { env: { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/db' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('broken-schema.ts failed to load: Error: boom at import')
  })

  it('an unknown --allow code lists the known ones', async () => {
    const result = await runCli(['plan', '--allow', 'drop-everything'], { env: { DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/db' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('unknown hazard code "drop-everything"')
    expect(result.stderr).toContain('column-type-change')
  })

  it('a malformed DATABASE_URL is described, never echoed', async () => {
    const result = await runCli(['verify'], { env: { DATABASE_URL: 'postgres://user:s3cret@host:notaport/db' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('DATABASE_URL is malformed: the port is not a number from 1 to 65535')
    expect(result.stderr + result.stdout).not.toContain('s3cret')
  })
})

describe.runIf(enabledTargets().includes('postgres'))('against a real PostgreSQL holding the pre-109 call_log', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  const snapshot = async () => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const columns = await client.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'call_log' ORDER BY ordinal_position`,
      )
      const rows = await client.query('SELECT count(*)::int AS n FROM call_log')
      return { columns: columns.rows.map((r) => r.column_name as string), rows: rows.rows[0].n as number }
    } finally {
      await client.end()
    }
  }

  beforeAll(async () => {
    database = await createDatabase()
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    await client.query(PRE_109)
    await client.end()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it('plan --dry-run shows exactly four guarded ADD COLUMN IF NOT EXISTS steps, then the concurrent index builds, and changes nothing', async () => {
    const before = await snapshot()
    const result = await runCli(['plan', '--dry-run'], { env: { DATABASE_URL: database.url } })
    expect(result.code).toBe(0)
    const adds = result.stdout.match(/ALTER TABLE "public"\."call_log" ADD COLUMN IF NOT EXISTS "\w+"/g)
    expect(adds).toEqual(NEW_COLUMNS.map((c) => `ALTER TABLE "public"."call_log" ADD COLUMN IF NOT EXISTS "${c}"`))
    expect(result.stdout).toContain('Summary: 7 steps (4 add column, 3 create index); 0 held back.')
    expect(result.stdout.match(/CREATE (UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS "\w+"/g)).toEqual([
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "call_log_call_sid_key"',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "call_log_created_at_idx"',
    ])
    expect(result.stdout).toContain('lock: SHARE UPDATE EXCLUSIVE · lock_timeout 5s · statement_timeout 0 · outside a transaction')
    expect(result.stdout).toContain('lock: ACCESS EXCLUSIVE · lock_timeout 5s · statement_timeout 0')
    expect(await snapshot()).toEqual(before)
  })

  it('plan --json gives the same steps to machines', async () => {
    const result = await runCli(['plan', '--json', '--dry-run', '--lock-timeout', '2s'], { env: { DATABASE_URL: database.url } })
    expect(result.code).toBe(0)
    const plan = JSON.parse(result.stdout)
    expect(plan.steps.map((s: { subject: string }) => s.subject)).toEqual([
      ...NEW_COLUMNS.map((c) => `call_log.${c}`),
      'call_log.call_log_call_sid_key',
      'call_log.call_log_call_sid_key',
      'call_log.call_log_created_at_idx',
    ])
    expect(plan.steps.map((s: { lock: string; transaction: boolean }) => [s.lock, s.transaction])).toEqual([
      ...NEW_COLUMNS.map(() => ['ACCESS EXCLUSIVE', true]),
      ['SHARE UPDATE EXCLUSIVE', false],
      ['ACCESS EXCLUSIVE', true],
      ['SHARE UPDATE EXCLUSIVE', false],
    ])
    expect(plan.steps.every((s: { lockTimeout: string }) => s.lockTimeout === '2s')).toBe(true)
    expect(plan.target).not.toContain('test-password')
  })

  it('verify exits 2 and names the four missing columns and the two missing indexes', async () => {
    const result = await runCli(['verify'], { env: { DATABASE_URL: database.url } })
    expect(result.code).toBe(2)
    for (const column of NEW_COLUMNS) expect(result.stdout).toMatch(new RegExp(`call_log\\.${column}: column is missing`))
    expect(result.stdout).toContain('call_log.call_log_call_sid_key: index is missing (declared a unique constraint USING btree (call_sid))')
    expect(result.stdout).toContain('call_log.call_log_created_at_idx: index is missing (declared an index USING btree (created_at))')
    expect(result.stdout).toContain('6 differences')
  })

  it('verify --json, and exit 0 once the columns and indexes exist, however they were made', async () => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    await client.query(
      'ALTER TABLE call_log ADD COLUMN started_at timestamptz, ADD COLUMN ended_at timestamptz, ADD COLUMN duration_sec int, ADD COLUMN summary_status text',
    )
    await client.query('ALTER TABLE call_log ADD UNIQUE (call_sid)')
    await client.query('CREATE INDEX ON call_log USING BTREE (created_at ASC NULLS LAST)')
    await client.end()
    const result = await runCli(['verify', '--json'], { env: { DATABASE_URL: database.url } })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ matches: true, mismatches: [], extras: [] })
  })

  it('a wrong password fails at connect, exit 1, and the password appears nowhere', async () => {
    const url = new URL(database.url)
    url.password = 'wrong-Pa55word'
    const result = await runCli(['verify'], { env: { DATABASE_URL: url.href } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('failed at the connect stage')
    expect(result.stderr).toContain('authentication failed (SQLSTATE 28P01)')
    expect(result.stderr).toContain('postgres://postgres:***@')
    expect(result.stdout + result.stderr).not.toContain('wrong-Pa55word')
  })
})

describe.runIf(enabledTargets().includes('postgres'))('--allow with subjects, and types the target lacks', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  let schemaFile: string
  let migrations: string
  const dsl = path.join(REPO, 'src/dsl/index.js')

  beforeAll(async () => {
    database = await createDatabase()
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    await client.query('CREATE TABLE call_log (id integer PRIMARY KEY, legacy_flag boolean, a text, b text)')
    await client.end()
    schemaFile = path.join(workDir(), 'allow-schema.ts')
    await writeFile(
      schemaFile,
      `import { c, table, defineSchema } from '${dsl}'\nexport const schema = defineSchema(table('call_log', { id: c.integer().primaryKey() }))\n`,
    )
    migrations = await mkdtemp(path.join(workDir(), 'allow-migrations-'))
  })
  afterAll(async () => {
    await database?.drop()
  })

  const plan = (...allow: string[]) =>
    runCli(['plan', '--dry-run', '--schema', schemaFile, '--migrations', migrations, ...allow.flatMap((a) => ['--allow', a])], {
      env: { DATABASE_URL: database.url },
    })

  it('a code with a subject plans that step alone and says so', async () => {
    const result = await plan('drop-column:call_log.legacy_flag')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('1. drop column call_log.legacy_flag')
    expect(result.stdout).toContain('Held back: 2 changes')
    expect(result.stdout).toContain('to plan it: --allow drop-column:call_log.a')
    expect(result.stdout).toContain('--allow drop-column:call_log.legacy_flag unlocked 1 step.')
  })

  it('a bare code plans every step it covers and says how many', async () => {
    const result = await plan('drop-column')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Summary: 3 steps (3 drop column); 0 held back.')
    expect(result.stdout).toContain('--allow drop-column unlocked 3 steps.')
    const json = JSON.parse((await runCli(['plan', '--json', '--dry-run', '--schema', schemaFile, '--migrations', migrations, '--allow', 'drop-column'], { env: { DATABASE_URL: database.url } })).stdout)
    expect(json.allowed).toEqual([{ allow: 'drop-column', code: 'drop-column', subject: null, steps: 3, unmatched: false }])
  })

  it('a subject that matches nothing unlocks nothing and says which subjects it could name; nothing is written', async () => {
    const result = await runCli(['plan', '--schema', schemaFile, '--migrations', migrations, '--allow', 'drop-column:call_log.legacy_flg'], {
      env: { DATABASE_URL: database.url },
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Summary: no steps; 3 held back.')
    expect(result.stdout).toContain(
      '--allow drop-column:call_log.legacy_flg matches no change in this plan (changes with drop-column here: drop-column:call_log.legacy_flag, drop-column:call_log.a, drop-column:call_log.b).',
    )
    expect(await readdir(migrations)).toEqual([])
  })

  it('an --allow subject with an unknown code is refused before connecting', async () => {
    const result = await runCli(['plan', '--allow', 'drop-colum:call_log.a'], { env: { DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/db' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('unknown hazard code "drop-colum" in --allow')
  })

  it('verify names a type the target lacks and the extension to create, exit 1', async () => {
    const file = path.join(workDir(), 'citext-schema.ts')
    await writeFile(
      file,
      `import { c, table, defineSchema } from '${dsl}'\nexport const schema = defineSchema(table('call_log', { id: c.integer().primaryKey(), email: c.type('citext') }))\n`,
    )
    const result = await runCli(['verify', '--schema', file], { env: { DATABASE_URL: database.url } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('call_log.email: type "citext" does not exist in the target database')
    expect(result.stderr).toContain('fix: CREATE EXTENSION citext')
  })
})

describe.runIf(enabledTargets().includes('postgres'))('read-only commands read the catalog while the schema is modelled', () => {
  const dsl = path.join(REPO, 'src/dsl/index.js')

  it('a schema that fails its checks is still the error of plan and verify, though the server was already being read', async ({ expect }) => {
    const database = await createDatabase()
    try {
      const file = path.join(workDir(), 'invalid-read-only.ts')
      await writeFile(file, `import { c, table, defineSchema } from '${dsl}'\nexport const schema = defineSchema(table('t', { id: c.integer() }), table('t', { id: c.integer() }))\n`)
      const migrations = await mkdtemp(path.join(workDir(), 'invalid-read-only-'))
      for (const command of ['plan', 'verify']) {
        const result = await runInProcess([command, '--schema', file, '--migrations', migrations, '--database-url', database.url])
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('duplicate table t: declared at')
        expect(result.stdout).toBe('')
      }
      expect(await readdir(migrations)).toEqual([])
    } finally {
      await database.drop()
    }
  })

  it('catalog reads held up longer than the connect timeout by a lock still finish: one query at a time on the one connection', async ({ expect }) => {
    const database = await createDatabase()
    try {
      await sqlOn(database.url, `CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t3 (id integer PRIMARY KEY, m mood)`)
      const file = path.join(workDir(), 'catalog-type.ts')
      // c.type(...) makes verify resolve the type as well as read the catalog: two reads that once shared the connection.
      await writeFile(file, `import { c, table, defineSchema } from '${dsl}'\nexport const schema = defineSchema(table('t3', { id: c.integer().primaryKey(), m: c.type('mood') }))\n`)
      const holder = await holdLock(database.url, 'LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE')
      const run = runInProcess(['verify', '--schema', file, '--connect-timeout', '1s', '--database-url', database.url])
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      await holder.release()
      const result = await run
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
    } finally {
      await database.drop()
    }
  })

  it('tables and enums in several PostgreSQL schemas are all read: plan, apply, then verify and plan find nothing', async ({ expect }) => {
    const database = await createDatabase()
    try {
      const file = path.join(workDir(), 'namespaces.ts')
      await writeFile(
        file,
        `import { c, enumType, table, defineSchema } from '${dsl}'
const level = enumType('level', ['low', 'high'], { schema: 'kinds' })
export const schema = defineSchema(
  table('account', { id: c.bigint().primaryKey(), level: c.enum(level) }),
  table('event', { id: c.bigint().primaryKey(), at: c.timestamptz().notNull() }, { schema: 'audit' }),
)\n`,
      )
      const migrations = await mkdtemp(path.join(workDir(), 'namespaces-'))
      await sqlOn(database.url, 'CREATE SCHEMA audit; CREATE SCHEMA kinds')
      const args = ['--schema', file, '--migrations', migrations, '--database-url', database.url]
      expect((await runInProcess(['plan', ...args])).code).toBe(0)
      const applied = await runInProcess(['apply', ...args])
      expect(applied.stderr).toBe('')
      expect(applied.code).toBe(0)
      // 0: no connect timeout, for the login and the session set-up alike.
      const verified = await runInProcess(['verify', ...args, '--connect-timeout', '0'])
      expect(verified.stdout).toContain('Live schema matches schema/: 2 tables, 4 columns')
      expect(verified.code).toBe(0)
      expect((await runInProcess(['plan', '--dry-run', ...args])).stdout).toContain('Plan: nothing to do')
    } finally {
      await database.drop()
    }
  })
})

async function sqlOn(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}
