import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Migrator } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { SchemaDefinition } from '../src/dsl/index.js'
import { loadMigrations } from '../src/migrations/files.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { compare } from '../src/pipeline.js'
import { schema as projectSchema } from '../schema/index.js'
import { PROJECT_MIGRATIONS, REPO, runCli } from './support/cli.js'
import { createDatabase, withTestDatabase } from './support/database.js'
import { schema as after109 } from './fixtures/history/after-109.js'
import { schema as after110 } from './fixtures/history/after-110.js'
import { schema as pre109 } from './fixtures/history/pre-109.js'
import { planFor, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { enabledTargets } from './support/targets.js'

const scratch = useScratchDir('generated')

async function filesIn(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort()
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(path.join(dir, name), 'utf8')])))
}

// One database per test on a server; on PGlite the tests share the file's one instance, so they take turns.
describe.each(enabledTargets())('generated migrations on %s', (target) => {
  const test = target === 'pglite' ? it : it.concurrent
  test('the committed generated-migrations/ are reproduced byte for byte from the schema history', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'history-'))
    await withTestDatabase(target, async ({ db }) => {
      // Baseline (call_log before 109), then 109, then 110, then its indexes: plan, write, apply, as a team would have.
      for (const definition of [pre109, after109, after110, projectSchema] as SchemaDefinition[]) {
        const declared = modelFromDefinition(definition)
        await writeAndApply(db, declared, await planFor(db, declared), dir)
      }
    })
    expect(await filesIn(dir)).toEqual(await filesIn(PROJECT_MIGRATIONS))
  })

  // Kysely 0.28 runs every migration in one transaction unless told `disableTransactions`; from 0.30 its
  // `transactionMode: 'per-migration'` reads each file's `config` and runs 0004 (CONCURRENTLY) outside one.
  test("Kysely's Migrator runs the generated files up and down, the non-transactional one outside a transaction", async () => {
    await withTestDatabase(target, async ({ db }) => {
      const migrations = await loadMigrations(PROJECT_MIGRATIONS)
      const modules = Object.fromEntries(
        await Promise.all(migrations.map(async (m) => [m.name, await import(m.path)] as const)),
      )
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => modules },
        migrationTableSchema: 'kysely_meta',
        disableTransactions: true,
      })
      await db.schema.createSchema('kysely_meta').execute()
      const up = await migrator.migrateToLatest()
      expect(up.error).toBeUndefined()
      expect(up.results?.map((r) => [r.migrationName, r.status])).toEqual(migrations.map((m) => [m.name, 'Success']))
      expect((await compare(db, modelFromDefinition(projectSchema))).changes).toEqual([])

      for (const _ of migrations) expect((await migrator.migrateDown()).error).toBeUndefined()
      const { changes } = await compare(db, modelFromDefinition(projectSchema))
      expect(changes.map((c) => c.kind)).toEqual(['create-table', 'create-index', 'create-index'])
    })
  })

  test("a non-transactional migration says so to Kysely's Migrator, and refuses to run inside a transaction", async () => {
    const migrations = await loadMigrations(PROJECT_MIGRATIONS)
    const concurrent = migrations.filter((m) => m.steps.some((step) => step.transaction === false)).map((m) => m.name)
    expect(concurrent).toEqual(['0004_call_log_index_call_sid_key_created_at_idx'])
    for (const migration of migrations) {
      const module = await import(migration.path)
      expect(module.config).toEqual(concurrent.includes(migration.name) ? { transaction: false } : undefined)
    }
    await withTestDatabase(target, async ({ db }) => {
      const modules = Object.fromEntries(await Promise.all(migrations.map(async (m) => [m.name, await import(m.path)] as const)))
      await db.schema.createSchema('kysely_meta').execute()
      // Kysely 0.28's default: everything in one transaction, which PostgreSQL would refuse for CONCURRENTLY.
      const result = await new Migrator({ db, provider: { getMigrations: async () => modules }, migrationTableSchema: 'kysely_meta' }).migrateToLatest()
      expect(result.results?.find((r) => r.status === 'Error')?.migrationName).toBe('0004_call_log_index_call_sid_key_created_at_idx')
      expect(String(result.error)).toContain("cannot run inside a transaction (it builds indexes CONCURRENTLY): give Kysely's Migrator transactionMode: 'per-migration'")
    })
  })
})

describe.runIf(enabledTargets().includes('postgres')).concurrent('other runners and other places', () => {
  it("kysely-ctl's `kysely migrate:latest` runs the generated files", async () => {
    await withTestDatabase('postgres', async ({ db, url }) => {
      await db.schema.createSchema('kysely_meta').execute()
      const app = await mkdtemp(path.join(scratch(), 'kysely-ctl-'))
      await writeFile(
        path.join(app, 'kysely.config.ts'),
        `import { defineConfig } from 'kysely-ctl'
import pg from 'pg'

export default defineConfig({
  dialect: 'pg',
  dialectConfig: { pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) },
  // Its history tables out of the declared schema, as the Migrator test above keeps them. Without a
  // transaction: 0004 builds its indexes CONCURRENTLY, which Kysely 0.28's Migrator cannot run in one.
  migrations: { migrationFolder: ${JSON.stringify(PROJECT_MIGRATIONS)}, migrationTableSchema: "kysely_meta", disableTransactions: true },
})
`,
      )
      // A user's shell: not this test runner's environment, in which kysely-ctl's logger stays quiet.
      const { stdout, stderr } = await promisify(execFile)(path.join(REPO, 'node_modules/.bin/kysely'), ['migrate:latest', '--no-outdated-check'], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: url ?? '' },
      })
      for (const name of await readdir(PROJECT_MIGRATIONS)) expect(`${stdout}${stderr}`).toContain(name.replace(/\.ts$/, ''))
      expect((await compare(db, modelFromDefinition(projectSchema))).changes).toEqual([])
    })
  })

  it('a migrations folder outside the application: written, loaded and applied, with kysely resolved from the application', async () => {
    const database = await createDatabase()
    const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-outside-'))
    try {
      const env = { DATABASE_URL: database.url }
      expect((await runCli(['plan', '--migrations', dir], { env })).code).toBe(0)
      const applied = await runCli(['apply', '--migrations', dir], { env })
      expect(applied.stderr).toBe('')
      expect(applied.code).toBe(0)
      expect((await runCli(['verify', '--migrations', dir], { env })).code).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
      await database.drop()
    }
  })

  it('a migration whose import cannot be found says which package to install, not that the file was edited', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'missing-'))
    await writeFile(path.join(dir, '0001_needs_a_package.ts'), `import 'kysely-not-installed-anywhere'\nexport const steps = []\n`)
    const result = await runCli(['check', '--migrations', dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('migration 0001_needs_a_package failed to load')
    expect(result.stderr).toContain('fix: install kysely-not-installed-anywhere in the application (npm install kysely-not-installed-anywhere)')
  })
})

describe.runIf(enabledTargets().includes('postgres')).concurrent('schema:plan writes each change once', () => {
  it('a second plan before apply finds the pending migration and writes nothing; after apply, the next change gets the next file', async () => {
    const database = await createDatabase()
    const dir = await mkdtemp(path.join(scratch(), 'once-'))
    try {
      const env = { DATABASE_URL: database.url }
      const first = await runCli(['plan', '--migrations', dir], { env })
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/Wrote .*0001_create_call_log\.ts\./)

      const second = await runCli(['plan', '--migrations', dir], { env })
      expect(second.code).toBe(0)
      expect(second.stdout).toContain(
        'Not written: 1 generated migration is not applied to this database yet (0001_create_call_log). 4 steps above are already in it. Apply it first (npm run schema:apply), then plan again.',
      )
      expect(second.stdout).not.toContain('Wrote')
      expect(Object.keys(await filesIn(dir))).toEqual(['0001_create_call_log.ts'])

      const dry = await runCli(['plan', '--dry-run', '--migrations', path.join(dir, 'nested')], { env })
      expect(dry.stdout).toMatch(/Would write .*0001_create_call_log\.ts \(--dry-run: nothing written\)\./)
      expect(await readdir(dir)).toEqual(['0001_create_call_log.ts'])

      expect((await runCli(['apply', '--migrations', dir], { env })).code).toBe(0)
      const grown = await runCli(['plan', '--migrations', dir, '--schema', path.join(REPO, 'test/fixtures/history/grown.ts')], { env })
      expect(grown.stdout).toMatch(/Wrote .*0002_call_log_add_recording_url\.ts\./)
    } finally {
      await database.drop()
    }
  })
})
