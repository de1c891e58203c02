import { execFile } from 'node:child_process'
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { enabledTargets } from './support/targets.js'

/**
 * The package as an application gets it: `npm pack`, the tarball installed
 * as a dev dependency of a Kysely application in the temp folder (outside
 * this repository, so nothing can resolve into its node_modules), with its
 * own schema, migrations folder, config file and `.env`; then the four
 * commands through `npx kysely-schema-migrate`, and `tsc` on application code
 * typed by the schema.
 */

const run = promisify(execFile)
const repoPackage = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

let app: string
let database: Awaited<ReturnType<typeof createDatabase>> | undefined
const RESOLVED = 'resolved.log'

const FILES: Record<string, string> = {
  'db/tables/person.ts': `import { c, table } from 'kysely-schema-migrate'

export const person = table('person', {
  id: c.bigserial().primaryKey(),
  name: c.text().notNull(),
  email: c.varchar(255),
  created_at: c.timestamptz().notNull().defaultSql('now()'),
})
`,
  'db/schema.ts': `import { defineSchema, type DatabaseOf } from 'kysely-schema-migrate'
import { person } from './tables/person.js'

export const schema = defineSchema(person)
export type Database = DatabaseOf<typeof schema>
`,
  'schema.config.ts': `import { defineConfig } from 'kysely-schema-migrate'

export default defineConfig({
  schema: 'db/schema.ts',
  migrations: 'db/migrations',
})
`,
  'src/people.ts': `import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from '../db/schema.js'

const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) })

export async function addPerson(name: string, email: string | null): Promise<string> {
  const row = await db.insertInto('person').values({ name, email }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function names(): Promise<string[]> {
  const rows = await db.selectFrom('person').select(['name', 'created_at']).execute()
  return rows.map((row) => \`\${row.name} since \${row.created_at.toISOString()}\`)
}

// @ts-expect-error: the schema declares no such column
db.selectFrom('person').select('age')
// @ts-expect-error: name is NOT NULL
db.insertInto('person').values({ name: null })
`,
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      include: ['src', 'db', 'schema.config.ts'],
    },
    null,
    2,
  ),
  // Every module the CLI resolves, ES module or CommonJS, is logged: the proof that none comes from the repository.
  'trace-resolve.mjs': `import { appendFileSync } from 'node:fs'
import Module, { register } from 'node:module'
import { fileURLToPath } from 'node:url'
const log = fileURLToPath(new URL('./${RESOLVED}', import.meta.url))
register('data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs'
  export async function resolve(specifier, context, next) {
    const result = await next(specifier, context)
    appendFileSync(\${JSON.stringify(log)}, result.url + '\\\\n')
    return result
  }\`))
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (...args) {
  const file = resolveFilename.apply(this, args)
  appendFileSync(log, file + '\\n')
  return file
}
`,
}

beforeAll(async () => {
  const packDir = await mkdtemp(path.join(os.tmpdir(), 'schema-pack-'))
  app = await mkdtemp(path.join(os.tmpdir(), 'schema-app-'))
  // `npm pack` builds first (prepack), exactly as `npm publish` would.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 })
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }]
  const tarball = path.join(packDir, filename)

  await writeFile(
    path.join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'scratch-app',
        private: true,
        type: 'module',
        dependencies: { kysely: repoPackage.peerDependencies.kysely, pg: repoPackage.dependencies.pg },
        devDependencies: {
          'kysely-schema-migrate': `file:${tarball}`,
          typescript: repoPackage.devDependencies.typescript,
          '@types/node': repoPackage.devDependencies['@types/node'],
          '@types/pg': repoPackage.devDependencies['@types/pg'],
        },
      },
      null,
      2,
    ),
  )
  for (const [file, text] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(app, file)), { recursive: true })
    await writeFile(path.join(app, file), text)
  }
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app })
  await rm(packDir, { recursive: true, force: true })
}, 240_000)

afterAll(async () => {
  await database?.drop()
  if (app) await rm(app, { recursive: true, force: true })
})

/** `npx kysely-schema-migrate ...` in the application, with only what a shell there would have. */
function npx(args: readonly string[], env: Record<string, string> = {}) {
  return run('npx', ['--no', 'kysely-schema-migrate', ...args], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: `--import=${path.join(app, 'trace-resolve.mjs')}`, ...env },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
}

describe.runIf(enabledTargets().includes('postgres')).concurrent('installed in a Kysely application', () => {
  it('the tarball holds the compiled package only, installed as a copy, with its bin', async () => {
    const installed = path.join(app, 'node_modules/kysely-schema-migrate')
    expect((await lstat(installed)).isSymbolicLink()).toBe(false)
    expect((await readdir(installed)).sort()).toEqual(['README.md', 'dist', 'package.json'])
    expect(await readdir(path.join(installed, 'dist'))).toEqual(['src'])
    expect(await realpath(path.join(app, 'node_modules/.bin/kysely-schema-migrate'))).toBe(path.join(installed, 'dist/src/cli/bin.js'))
  })

  it('plan, apply, verify and check run through npx with schema.config.ts and .env; nothing resolves into the repository', async () => {
    database = await createDatabase()
    await writeFile(path.join(app, '.env'), `# read by kysely-schema-migrate, as kysely-ctl reads it\nDATABASE_URL=${database.url}\n`)

    const plan = await npx(['plan'])
    // npm's own notices (this machine's npmrc) aside, the tool says nothing on stderr: the target is a real server.
    expect(plan.stderr.replace(/^npm warn .*\n/gm, '')).toBe('')
    expect(plan.code).toBe(0)
    expect(plan.stdout).toMatch(/Wrote db\/migrations\/0001_create_person\.ts\./)
    expect(await readdir(path.join(app, 'db/migrations'))).toEqual(['0001_create_person.ts'])

    const apply = await npx(['apply'])
    expect(apply.code).toBe(0)
    expect(apply.stdout).toMatch(/Applied 1 migration \(1 step\)/)

    const verify = await npx(['verify'])
    expect(verify.code).toBe(0)
    const check = await npx(['check'])
    expect(check.code).toBe(0)
    expect(check.stdout).toContain('In sync')

    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    const { rows } = await client.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'person' ORDER BY ordinal_position`)
    await client.end()
    expect(rows.map((r) => r.column_name)).toEqual(['id', 'name', 'email', 'created_at'])

    const resolved = (await readFile(path.join(app, RESOLVED), 'utf8')).split('\n').filter(Boolean)
    expect(resolved.some((line) => line.includes(`${app}/node_modules/kysely-schema-migrate/dist/src/cli/`))).toBe(true)
    expect(resolved.some((line) => line.includes(`${app}/node_modules/kysely/`))).toBe(true)
    expect(resolved.filter((line) => line.includes(REPO))).toEqual([])
  })

  it('tsc accepts application code typed by the schema, and rejects what the schema forbids', async () => {
    const result = await run(path.join(app, 'node_modules/.bin/tsc'), ['-p', app]).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    )
    expect(result.stdout).toBe('')
    expect(result.code).toBe(0)
  })
})
