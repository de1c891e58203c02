import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { c, defineSchema, table } from '../src/dsl/index.js'
import { MigratorError } from '../src/errors.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { displayTableName } from '../src/model/model.js'
import { compare, planAgainst } from '../src/pipeline.js'
import { parseAllow } from '../src/plan/allowance.js'
import type { Plan } from '../src/plan/plan.js'
import { REAL_WORLD_CASES } from './acceptance/real-world-cases.js'
import { withTestDatabase } from './support/database.js'
import { planFor, TEST_TIMEOUTS, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { casesOn } from './support/cases.js'
import { enabledTargets } from './support/targets.js'

/**
 * Real-world-shaped schemas, round-tripped the way they were found to break:
 * verify on the original, plan and apply on an empty database, re-plan, and
 * an independent catalog diff of the two databases (straight from
 * `pg_catalog`, not through the migrator's own introspection).
 */

const stepsOf = (plan: Plan) => plan.steps.map((s) => `${s.change.kind} ${s.subject}`)
const heldBackOf = (plan: Plan) => plan.heldBack.flatMap((h) => h.hazards.map((z) => `${z.code} ${h.subject}`))

const scratch = useScratchDir('real-world')

interface CatalogColumn {
  readonly table: string
  readonly kind: string
  readonly partition_key: string | null
  readonly primary_key: string | null
  readonly column: string
  readonly type: string
  readonly not_null: boolean
  readonly identity: string
  readonly generated: string
  readonly default_expr: string | null
}

/** Every column of every table in `public`, read from the catalog directly. */
async function catalogSnapshot(db: Kysely<unknown>): Promise<CatalogColumn[]> {
  const { rows } = await sql<CatalogColumn>`
    SELECT c.relname AS table, c.relkind::text AS kind, pg_get_partkeydef(c.oid) AS partition_key,
           (SELECT string_agg(k.attname, ',' ORDER BY array_position(pk.conkey, k.attnum))
              FROM pg_constraint pk JOIN pg_attribute k ON k.attrelid = pk.conrelid AND k.attnum = ANY(pk.conkey)
             WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS primary_key,
           a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           a.attidentity::text AS identity, a.attgenerated::text AS generated,
           pg_get_expr(d.adbin, d.adrelid) AS default_expr
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY c.relname, a.attnum`.execute(db)
  return rows
}

/**
 * Where the two snapshots differ. A constant default spelt differently
 * (`0.0` and `0`) is compared by PostgreSQL's own equality, in `db`.
 */
async function catalogDifferences(db: Kysely<unknown>, original: CatalogColumn[], migrated: CatalogColumn[]): Promise<string[]> {
  const differences: string[] = []
  const byKey = new Map(migrated.map((row) => [`${row.table}.${row.column}`, row]))
  for (const before of original) {
    const key = `${before.table}.${before.column}`
    const after = byKey.get(key)
    byKey.delete(key)
    if (!after) {
      differences.push(`${key}: missing after the round trip`)
      continue
    }
    for (const field of ['kind', 'partition_key', 'primary_key', 'type', 'not_null', 'identity', 'generated'] as const) {
      if (before[field] !== after[field]) differences.push(`${key}: ${field} ${before[field]} became ${after[field]}`)
    }
    if (before.default_expr !== after.default_expr && !(await sameConstant(db, before, after))) {
      differences.push(`${key}: default ${before.default_expr} became ${after.default_expr}`)
    }
  }
  for (const key of byKey.keys()) differences.push(`${key}: appeared in the round trip`)
  return differences
}

async function sameConstant(db: Kysely<unknown>, before: CatalogColumn, after: CatalogColumn): Promise<boolean> {
  const constant = (expr: string | null) => expr !== null && !/[a-z_]\s*\(/i.test(expr.replace(/'(?:[^']|'')*'/g, "''"))
  if (!constant(before.default_expr) || !constant(after.default_expr) || before.generated !== '') return false
  const type = sql.raw(before.type)
  const { rows } = await sql<{ same: boolean }>`SELECT (${sql.raw(before.default_expr as string)})::${type}
      IS NOT DISTINCT FROM (${sql.raw(after.default_expr as string)})::${type} AS same`.execute(db)
  return rows[0]?.same === true
}

describe.each(enabledTargets())('real-world schemas on %s', (target) => {
  casesOn(target).for(REAL_WORLD_CASES)(
    '$name: verify on the original, plan and apply on an empty database, re-plan, catalog diff',
    async (realWorld, { expect }) => {
      const declared = modelFromDefinition(realWorld.schema)

      const original = await withTestDatabase(target, async ({ db, exec }) => {
        await exec(`${realWorld.prerequisites}\n${realWorld.dump}`)
        expect((await compare(db, declared)).changes).toEqual([])
        const plan = await planFor(db, declared)
        expect(stepsOf(plan)).toEqual([])
        expect(heldBackOf(plan)).toEqual([])
        return catalogSnapshot(db)
      })

      await withTestDatabase(target, async ({ db, exec }) => {
        await exec(realWorld.prerequisites)
        const plan = await planFor(db, declared)
        expect(stepsOf(plan)).toEqual(declared.tables.map((t) => `create-table ${displayTableName(t)}`))
        expect(heldBackOf(plan)).toEqual([])
        await writeAndApply(db, declared, plan, await mkdtemp(path.join(scratch(), `${target}-`)))
        expect((await compare(db, declared)).changes).toEqual([])
        expect(stepsOf(await planFor(db, declared))).toEqual([])
        expect(await catalogDifferences(db, original, await catalogSnapshot(db))).toEqual([])
      })
    },
  )
})

/** The rejection `promise` ends with, which must be a MigratorError. */
async function failure(promise: Promise<unknown>): Promise<MigratorError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MigratorError)
  return error as MigratorError
}

const plan = (db: Kysely<unknown>, schema: ReturnType<typeof defineSchema>, allow: string[] = []) =>
  planAgainst(db, { declared: modelFromDefinition(schema), timeouts: TEST_TIMEOUTS, allow: parseAllow(allow) })

describe.each(enabledTargets())('what the target must have, and what plan refuses to write, on %s', (target) => {
  it('a type the target lacks is named with the extension that provides it; the schema still loads offline', async () => {
    const schema = defineSchema(
      table('people', { id: c.integer().primaryKey(), email: c.type('citext'), mood: c.type('mood'), ok: c.type('text') }),
    )
    const declared = modelFromDefinition(schema)
    await withTestDatabase(target, async ({ db }) => {
      for (const attempt of [compare(db, declared), plan(db, schema)]) {
        const error = await failure(attempt)
        expect(error.message).toContain('people.email: type "citext" does not exist in the target database')
        expect(error.message).toContain('people.mood: type "mood" does not exist in the target database')
        expect(error.message).not.toContain('people.ok')
        expect(error.hint).toContain('CREATE EXTENSION citext')
      }
    })
  })

  it('a sequence the target lacks is named', async () => {
    const schema = defineSchema(table('t', { id: c.integer().primaryKey(), n: c.bigint().defaultSql("nextval('invoice_numbers')") }))
    await withTestDatabase(target, async ({ db }) => {
      const error = await failure(compare(db, modelFromDefinition(schema)))
      expect(error.message).toContain('t.n: sequence invoice_numbers does not exist in the target database')
      expect(error.hint).toContain('CREATE SEQUENCE')
    })
  })

  it('a default PostgreSQL cannot store is refused at plan time, naming the column and the reason, before anything is written', async () => {
    const schema = defineSchema(
      table('t', {
        id: c.integer().primaryKey(),
        m: c.type<string>('mood').default('nope'),
        a: c.array(c.text()).defaultSql("'[]'"),
        fine: c.text().default('fine'),
      }),
    )
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TABLE t (id integer PRIMARY KEY)`)
      const error = await failure(plan(db, schema))
      expect(error.stage).toBe('plan')
      expect(error.message).toContain(`t.m: default 'nope' cannot be stored in a mood column: invalid input value for enum mood: "nope"`)
      expect(error.message).toContain(`t.a: default '[]' cannot be stored in a text[] column: malformed array literal: "[]"`)
      expect(error.message).not.toContain('t.fine')
      expect(error.hint).toContain('fix the default')
    })
  })

  it('a first plan of a schema with more distinct defaults than a SELECT list may hold (1,664) checks them all and plans every table', async () => {
    // 120 tables x 15 columns: 1,800 defaults, 1,200 of them distinct; one bad one among them is still named.
    const tables = Array.from({ length: 120 }, (_, t) =>
      table(`wide_${t}`, {
        id: c.integer().primaryKey(),
        ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`n${i}`, c.integer().default(t * 10 + i)])),
        ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s${i}`, c.text().default('same')])),
      }),
    )
    await withTestDatabase(target, async ({ db }) => {
      const { plan: planned } = await plan(db, defineSchema(...tables))
      expect(planned.steps).toHaveLength(120)
      const bad = table('bad', { id: c.integer().primaryKey(), d: c.date().default('not a date') })
      const error = await failure(plan(db, defineSchema(...tables, bad)))
      expect(error.message).toContain(`bad.d: default 'not a date' cannot be stored in a date column`)
      expect(error.message).not.toContain('wide_')
    })
  })

  it('a bare --allow code plans every step it covers and counts them; a code with a subject plans that one', async () => {
    const schema = defineSchema(table('call_log', { id: c.integer().primaryKey() }))
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`CREATE TABLE call_log (id integer PRIMARY KEY, legacy_flag boolean, a text, b text); CREATE TABLE old (id int)`)
      const bare = (await plan(db, schema, ['drop-column'])).plan
      expect(stepsOf(bare)).toEqual(['drop-column call_log.legacy_flag', 'drop-column call_log.a', 'drop-column call_log.b'])
      expect(bare.allowed).toEqual([{ allow: 'drop-column', code: 'drop-column', subject: null, steps: 3, unmatched: false }])

      const named = (await plan(db, schema, ['drop-column:call_log.legacy_flag,drop-table:old'])).plan
      expect(stepsOf(named)).toEqual(['drop-column call_log.legacy_flag', 'drop-table old'])
      expect(heldBackOf(named)).toEqual(['drop-column call_log.a', 'drop-column call_log.b'])
      expect(named.allowed).toEqual([
        { allow: 'drop-column:call_log.legacy_flag', code: 'drop-column', subject: 'call_log.legacy_flag', steps: 1, unmatched: false },
        { allow: 'drop-table:old', code: 'drop-table', subject: 'old', steps: 1, unmatched: false },
      ])
    })
  })

  it('an --allow subject that names no change unlocks nothing and is reported as such', async () => {
    const schema = defineSchema(table('call_log', { id: c.integer().primaryKey() }))
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`CREATE TABLE call_log (id integer PRIMARY KEY, legacy_flag boolean, other text)`)
      const typo = (await plan(db, schema, ['drop-column:call_log.legacy_flg', 'drop-table:call_log'])).plan
      expect(stepsOf(typo)).toEqual([])
      expect(heldBackOf(typo)).toEqual(['drop-column call_log.legacy_flag', 'drop-column call_log.other'])
      expect(typo.allowed.map((use) => [use.allow, use.steps, use.unmatched])).toEqual([
        ['drop-column:call_log.legacy_flg', 0, true],
        ['drop-table:call_log', 0, true],
      ])
    })
  })
})

describe.runIf(enabledTargets().includes('postgres'))('PostgreSQL 18 virtual generated columns', () => {
  it('a virtual generated column is read as such and never taken for the stored one declared', async () => {
    const schema = defineSchema(table('t', { id: c.integer().primaryKey(), a: c.integer(), g: c.integer().generatedAlwaysAs('a * 2') }))
    await withTestDatabase('postgres', async ({ db, exec }) => {
      await exec('CREATE TABLE t (id integer PRIMARY KEY, a integer, g integer GENERATED ALWAYS AS (a * 2) VIRTUAL)')
      const { plan: planned, changes } = await plan(db, schema)
      expect(changes.map((change) => change.kind)).toEqual(['alter-column-generated'])
      expect(heldBackOf(planned)).toEqual(['generated-change t.g'])
      expect(planned.heldBack[0]?.hazards[0]?.message).toContain('generated always as (a * 2) virtual → generated always as (a * 2) stored')
    })
  })
})
