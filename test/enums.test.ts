import { mkdtemp, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { SchemaMismatchError } from '../src/apply/apply.js'
import { c, defineSchema, enumType, table } from '../src/dsl/index.js'
import { MigratorError } from '../src/errors.js'
import { loadMigrations } from '../src/migrations/files.js'
import { generateMigration } from '../src/migrations/generate.js'
import { HISTORY_SCHEMA } from '../src/migrations/history.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { schemaHash } from '../src/model/hash.js'
import type { SchemaModel } from '../src/model/model.js'
import { casesOn } from './support/cases.js'
import { REPO, runCli } from './support/cli.js'
import { createDatabase, withTestDatabase } from './support/database.js'
import { applyPending, planFor, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { enabledTargets } from './support/targets.js'

/**
 * Enums beyond the acceptance cases (`acceptance/enum-cases.ts`): a label
 * added by one migration and used by the next, both applied in one run; an
 * enum that exists in another form when its migration runs; what a held-back
 * label change tells the user; declarations refused before any database.
 */

const scratch = useScratchDir('enums')

/** The three versions of a schema: an enum, then a label added, then that label used as a default and in an expression. */
function versions(): [first: SchemaModel, grown: SchemaModel, using: SchemaModel] {
  const first = enumType('call_status', ['queued', 'done'])
  const grown = enumType('call_status', ['queued', 'ringing', 'done'])
  const calls = (status: typeof first | typeof grown, defaultLabel: 'queued' | 'ringing', expression: boolean) =>
    defineSchema(
      table('calls', {
        id: c.integer().primaryKey(),
        status: c.enum(status).notNull().default(defaultLabel),
        ...(expression ? { is_ringing: c.boolean().generatedAlwaysAs("status = 'ringing'") } : {}),
      }),
    )
  return [modelFromDefinition(calls(first, 'queued', false)), modelFromDefinition(calls(grown, 'queued', false)), modelFromDefinition(calls(grown, 'ringing', true))]
}

describe.each(enabledTargets())('enums on %s', (target) => {
  casesOn(target)('a label added by one migration is used by the next (a default, an expression), both pending and applied in one run', async () => {
    const dir = await mkdtemp(path.join(scratch(), `${target}-later-`))
    const [first, grown, using] = versions()
    await withTestDatabase(target, async ({ db, exec }) => {
      // Written one at a time, as a developer does against a local database.
      await writeAndApply(db, first, await planFor(db, first), dir)
      const adding = await planFor(db, grown)
      expect(adding.steps.map((s) => [s.change.kind, s.transaction, s.sql])).toEqual([
        ['add-enum-value', false, `ALTER TYPE "public"."call_status" ADD VALUE IF NOT EXISTS 'ringing' AFTER 'queued'`],
      ])
      await writeAndApply(db, grown, adding, dir)
      const use = await planFor(db, using, ['default-change'])
      expect(use.steps.map((s) => s.change.kind)).toEqual(['add-column', 'alter-column-default'])
      await writeAndApply(db, using, use, dir)

      // Production: an empty database gets all three in one run, the label committed before the migrations using it.
      await exec(`DROP SCHEMA ${HISTORY_SCHEMA} CASCADE; DROP TABLE calls; DROP TYPE call_status;`)
      const result = await applyPending(db, using, dir)
      expect(result.applied.map((m) => m.name)).toEqual((await loadMigrations(dir)).map((m) => m.name))
      await sql`INSERT INTO calls (id) VALUES (1)`.execute(db)
      const { rows } = await sql<{ status: string; is_ringing: boolean }>`SELECT status, is_ringing FROM calls`.execute(db)
      expect(rows).toEqual([{ status: 'ringing', is_ringing: true }])
      expect((await planFor(db, using)).steps).toEqual([])
    })
  })

  casesOn(target)('an enum made meanwhile with other labels: CREATE TYPE is left out and the post-apply assertion names it', async () => {
    const dir = await mkdtemp(path.join(scratch(), `${target}-meanwhile-`))
    const [declared] = versions()
    await withTestDatabase(target, async ({ db, exec }) => {
      await generateMigration({ plan: await planFor(db, declared), declared, files: [], pending: [], dir, dryRun: false })
      await exec(`CREATE TYPE call_status AS ENUM ('queued', 'dialing')`)
      const error = await applyPending(db, declared, dir).then(() => null, (e: unknown) => e)
      expect(error).toBeInstanceOf(SchemaMismatchError)
      expect((error as SchemaMismatchError).mismatches).toEqual([
        { subject: 'call_status', problem: `enum labels are 'queued', 'dialing', declared 'queued', 'done'` },
      ])
    })
  })

  casesOn(target)('a renamed label is held back with the RENAME VALUE to run by hand; --allow cannot plan it', async () => {
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`CREATE SCHEMA audit; CREATE TYPE audit."Level" AS ENUM ('low', 'hi', 'top')`)
      const declared = modelFromDefinition(defineSchema(enumType('Level', ['low', "it's high", 'top'], { schema: 'audit' })))
      const plan = await planFor(db, declared, ['enum-label-removed'])
      expect(plan.steps).toEqual([])
      expect(plan.heldBack.map((h) => [h.subject, h.sql, h.needsAllow])).toEqual([['audit.Level', null, []]])
      expect(plan.heldBack[0]?.hazards.map((h) => h.code)).toEqual(['enum-label-removed'])
      expect(plan.heldBack[0]?.hazards[0]?.message).toContain(`run ALTER TYPE "audit"."Level" RENAME VALUE 'hi' TO 'it''s high' by hand`)
    })
  })

  casesOn(target)('a default naming a label the plan does not add is refused before anything is written', async () => {
    await withTestDatabase(target, async ({ db }) => {
      const status = enumType('call_status', ['queued', 'done'])
      // `.default` is typed by the labels; a schema written in JavaScript, or cast, can still get it wrong.
      const declared = modelFromDefinition(defineSchema(table('calls', { id: c.integer().primaryKey(), status: c.enum(status).default('busy' as 'done') })))
      const error = await planFor(db, declared).then(() => null, (e: unknown) => e)
      expect(error).toBeInstanceOf(MigratorError)
      expect((error as MigratorError).message).toContain(`calls.status: default 'busy' cannot be stored in a public.call_status column: schema/ declares no label 'busy'`)
    })
  })
})

describe('enums in the declared model', () => {
  it('the schema hash a migration records changes with a label and with the labels\' order', () => {
    const hashOf = (labels: readonly string[]) => schemaHash(modelFromDefinition(defineSchema(table('t', { id: c.integer(), s: c.enum(enumType('e', labels)) }))))
    expect(new Set([hashOf(['a', 'b']), hashOf(['a', 'b', 'c']), hashOf(['b', 'a'])]).size).toBe(3)
    expect(hashOf(['a', 'b'])).toBe(hashOf(['a', 'b']))
  })
})

describe('enum declarations refused when the schema loads', () => {
  it('every problem at once, each naming where the enum is declared', () => {
    const status = enumType('status', ['a', 'a', 'é'.repeat(32)])
    const clash = enumType('calls', ['x'])
    const twice = [enumType('twice', ['a']), enumType('twice', ['b'])] as const
    const error = (() => {
      try {
        modelFromDefinition(
          defineSchema(clash, twice[0], twice[1], table('calls', { id: c.integer(), s: c.enum(status) })),
        )
      } catch (e) {
        return e as MigratorError
      }
      throw new Error('expected the definition to be refused')
    })()
    expect(error.stage).toBe('schema')
    expect(error.message).toMatch(/enum status \(.*enums\.test\.ts:\d+\): label 'a' is listed twice/)
    expect(error.message).toContain(`label '${'é'.repeat(32)}' is over 63 bytes, which PostgreSQL refuses`)
    expect(error.message).toMatch(/enum calls \(.*\): a table of the same name exists in schema public/)
    expect(error.message).toMatch(/enum twice is declared twice with different labels: at enum twice \(.*:\d+\) and at enum twice \(.*:\d+\)/)
  })
})

describe.runIf(enabledTargets().includes('postgres'))('the CLI on enums', () => {
  it('plan prints the label step outside a transaction and the held-back reorder; verify exits 2 naming the missing label', async () => {
    const database = await createDatabase()
    try {
      const work = await mkdtemp(path.join(scratch(), 'cli-'))
      const schemaFile = path.join(work, 'schema.ts')
      const dsl = path.join(REPO, 'src/dsl/index.js')
      await writeFile(
        schemaFile,
        `import { c, defineSchema, enumType, table } from '${dsl}'
export const schema = defineSchema(table('calls', {
  id: c.integer().primaryKey(),
  status: c.enum(enumType('call_status', ['queued', 'ringing', 'done'])),
  level: c.enum(enumType('level', ['high', 'low'])),
}))\n`,
      )
      const client = new (await import('pg')).default.Client({ connectionString: database.url })
      await client.connect()
      await client.query(`CREATE TYPE call_status AS ENUM ('queued', 'done'); CREATE TYPE level AS ENUM ('low', 'high');
        CREATE TABLE calls (id integer PRIMARY KEY, status call_status, level level)`)
      await client.end()
      const env = { env: { DATABASE_URL: database.url } }
      const [plan, verify] = await Promise.all([
        runCli(['plan', '--dry-run', '--schema', schemaFile, '--migrations', path.join(work, 'migrations')], env),
        runCli(['verify', '--schema', schemaFile], env),
      ])
      expect(plan.code).toBe(0)
      expect(plan.stdout).toContain(`ALTER TYPE "public"."call_status" ADD VALUE IF NOT EXISTS 'ringing' AFTER 'queued'`)
      expect(plan.stdout).toMatch(/outside a transaction/)
      expect(plan.stdout).toContain('enum-label-reordered')
      expect(verify.code).toBe(2)
      expect(verify.stdout + verify.stderr).toContain(`enum label 'ringing' is missing`)
      expect(verify.stdout + verify.stderr).toContain(`enum labels are 'low', 'high', declared 'high', 'low'`)
    } finally {
      await database.drop()
    }
  })
})
