import { createHash } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { type ApplyEvent, StepFailedError } from '../src/apply/apply.js'
import { tablesToLock } from '../src/apply/step-targets.js'
import { c, check, defineSchema, foreignKey, index, type SchemaDefinition, table } from '../src/dsl/index.js'
import { MigratorError } from '../src/errors.js'
import { loadMigrations } from '../src/migrations/files.js'
import { generateMigration } from '../src/migrations/generate.js'
import { checksumOf, type MigrationStep } from '../src/migrations/migration.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { casesOn } from './support/cases.js'
import { withTestDatabase } from './support/database.js'
import { applyPending, planFor, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { holdLock } from './support/sessions.js'
import { enabledServers, enabledTargets } from './support/targets.js'

/**
 * What the acceptance cases cannot show: a validation that fails on existing
 * rows (named, counted, left NOT VALID, and finished by a re-run once the rows
 * are fixed), the locks the steps take, and the schema problems refused before
 * anything touches a database.
 */

const scratch = useScratchDir('constraints')

const accounts = table('accounts', { id: c.bigint().primaryKey() })
const orderColumns = { id: c.bigint().primaryKey(), account_id: c.bigint().references(accounts, 'id'), qty: c.integer(), note: c.text().notNull() }
const orders = (options: Parameters<typeof table<'orders', typeof orderColumns>>[2] = {}) => defineSchema(accounts, table('orders', orderColumns, options))

const ROWS = `
  CREATE TABLE accounts (id bigint PRIMARY KEY);
  CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint, qty integer, note text NOT NULL);
  INSERT INTO accounts SELECT g FROM generate_series(1, 10) g;
  INSERT INTO orders SELECT g, 1 + g % 10, g, 'n' FROM generate_series(1, 200) g;`

/** Plans `schema`, writes the migration into a fresh folder, and returns a function that applies what is pending there. */
async function planned(db: Kysely<unknown>, schema: SchemaDefinition, label: string) {
  const declared = modelFromDefinition(schema)
  const plan = await planFor(db, declared)
  const dir = await mkdtemp(path.join(scratch(), `${label}-`))
  await generateMigration({ plan, declared, files: await loadMigrations(dir), pending: [], dir, dryRun: false })
  return { plan, apply: async (events: ApplyEvent[] = []) => applyPending(db, declared, dir, (event) => events.push(event)) }
}

async function validated(db: Kysely<unknown>, name: string): Promise<boolean | undefined> {
  const { rows } = await sql<{ valid: boolean }>`SELECT convalidated AS valid FROM pg_constraint WHERE conname = ${name}`.execute(db)
  return rows[0]?.valid
}

const failure = (error: unknown) => {
  expect(error).toBeInstanceOf(StepFailedError)
  return error as StepFailedError
}

describe.each(enabledTargets())('validation failures on %s', (target) => {
  casesOn(target)('a check existing rows break fails at VALIDATE naming it, stays NOT VALID, and a re-run after the fix validates it', async ({ expect }) => {
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`${ROWS} UPDATE orders SET qty = -1 WHERE id <= 3;`)
      const { apply } = await planned(db, orders({ checks: [check('orders_qty_positive', 'qty > 0')] }), `${target}-check`)

      const error = failure(await apply().catch((e: unknown) => e))
      expect(error.sqlState).toBe('23514')
      expect(error.message).toContain('step 4/4 (add-constraint orders.orders_qty_positive)')
      expect(error.message).toContain('orders_qty_positive')
      expect(error.message).toContain('3 rows break it')
      expect(error.hint).toContain('SELECT * FROM "orders" WHERE NOT ((qty > 0))')
      expect(await validated(db, 'orders_qty_positive')).toBe(false)
      // Meanwhile the NOT VALID check already rejects new rows that break it.
      await expect(exec(`INSERT INTO orders VALUES (1000, 1, -5, 'n')`)).rejects.toThrow(/orders_qty_positive/)

      await exec('UPDATE orders SET qty = 1 WHERE qty < 0')
      const events: ApplyEvent[] = []
      await apply(events)
      expect(events).toContainEqual({ type: 'steps-resumed', migration: expect.any(String), done: [1, 2, 3] })
      expect(await validated(db, 'orders_qty_positive')).toBe(true)
    })
  })

  casesOn(target)('NOT NULL on a column with NULLs left fails at VALIDATE with their count and points at schema:backfill; filled, a re-run finishes', async ({ expect }) => {
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`${ROWS} ALTER TABLE orders ALTER note DROP NOT NULL; UPDATE orders SET note = NULL WHERE id % 50 = 0;`)
      const { apply } = await planned(db, orders(), `${target}-not-null`)

      const error = failure(await apply().catch((e: unknown) => e))
      expect(error.message).toContain('column note of orders cannot be made NOT NULL: 4 rows hold NULL in it')
      expect(error.message).toContain('SQLSTATE 23514')
      expect(error.hint).toContain('schema:backfill')
      const { rows: before } = await sql<{ notnull: boolean }>`SELECT attnotnull AS notnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'note'`.execute(db)
      expect(before[0]?.notnull).toBe(false)

      await exec(`UPDATE orders SET note = '' WHERE note IS NULL`)
      await apply()
      const { rows: after } = await sql<{ notnull: boolean; checks: number }>`
        SELECT attnotnull AS notnull, (SELECT count(*)::int FROM pg_constraint WHERE conname = 'orders_note_nn_ksm') AS checks
          FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'note'`.execute(db)
      expect(after[0]).toEqual({ notnull: true, checks: 0 })
    })
  })

  casesOn(target)('a foreign key PostgreSQL cannot implement (column types that do not compare) is refused by plan, naming it, before any DDL', async ({ expect }) => {
    await withTestDatabase(target, async ({ db }) => {
      const codes = table('codes', { code: c.text().primaryKey() })
      const mismatched = defineSchema(codes, table('uses', { id: c.bigint().primaryKey(), code: c.integer().references(codes, 'code') }, { indexes: [index('code')] }))
      const error = await planFor(db, modelFromDefinition(mismatched)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MigratorError)
      expect((error as MigratorError).message).toContain('table uses, foreign key uses_code_fkey: PostgreSQL cannot add it')
      expect((error as MigratorError).message).toContain('incompatible types: integer and text')
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('codes', 'uses')`.execute(db)
      expect(rows[0]?.n).toBe(0)

      // integer to bigint compares: planned, applied and verified as usual.
      const numbers = table('numbers', { id: c.bigint().primaryKey() })
      const widened = defineSchema(numbers, table('uses', { id: c.bigint().primaryKey(), n: c.integer().references(numbers, 'id') }, { indexes: [index('n')] }))
      const { apply } = await planned(db, widened, `${target}-fk-types`)
      await apply()
    })
  })

  casesOn(target)('a foreign key existing rows break fails at VALIDATE with the missing key, and stays NOT VALID', async ({ expect }) => {
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(`${ROWS} UPDATE orders SET account_id = 99 WHERE id = 7;`)
      const { apply } = await planned(db, orders({ indexes: [index('account_id')] }), `${target}-fk`)
      const error = failure(await apply().catch((e: unknown) => e))
      expect(error.sqlState).toBe('23503')
      expect(error.message).toContain('orders_account_id_fkey')
      expect(error.message).toContain('Key (account_id)=(99) is not present in table "accounts"')
      expect(await validated(db, 'orders_account_id_fkey')).toBe(false)
    })
  })
})

// NOT ENFORCED arrived in PostgreSQL 18: the newest server of the run is the one that has it.
describe.each(enabledServers().filter((server) => server === 'postgres'))('a constraint made NOT ENFORCED by hand on %s', (server) => {
  it.concurrent('differs from its declaration (constraint-change), and is never planned as a VALIDATE PostgreSQL refuses', async ({ expect }) => {
    await withTestDatabase(server, async ({ db, exec }) => {
      await exec(`${ROWS} CREATE INDEX ON orders (account_id);
        ALTER TABLE orders ADD CONSTRAINT orders_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) NOT ENFORCED;`)
      const schema = orders({ indexes: [index('account_id')] })
      const held = await planFor(db, modelFromDefinition(schema))
      expect(held.steps).toEqual([])
      expect(held.heldBack.map((h) => [h.change.kind, h.hazards.map((z) => z.code)])).toEqual([['replace-constraint', ['constraint-change']]])

      const allowed = await planFor(db, modelFromDefinition(schema), ['constraint-change'])
      expect(allowed.steps.map((step) => /(DROP|ADD|VALIDATE) CONSTRAINT/.exec(step.sql)?.[0])).toEqual(['DROP CONSTRAINT', 'ADD CONSTRAINT', 'VALIDATE CONSTRAINT'])
      await writeAndApply(db, modelFromDefinition(schema), allowed, await mkdtemp(path.join(scratch(), 'not-enforced-')))
      const { rows } = await sql<{ valid: boolean; enforced: boolean }>`
        SELECT convalidated AS valid, conenforced AS enforced FROM pg_constraint WHERE conname = 'orders_account_id_fkey'`.execute(db)
      expect(rows).toEqual([{ valid: true, enforced: true }])
    })
  })
})

describe.each(enabledServers())('locks on %s', (server) => {
  it.concurrent('validating waits for no application writer: it locks SHARE UPDATE EXCLUSIVE, in a transaction of its own', async ({ expect }) => {
    await withTestDatabase(server, async ({ db, exec, url }) => {
      await exec(`${ROWS}
        ALTER TABLE orders ADD FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
        ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;`)
      const { plan, apply } = await planned(db, orders({ checks: [check('orders_qty_positive', 'qty > 0')] }), `${server}-locks`)
      expect(plan.steps.map((s) => [s.change.kind, s.lock, s.ownTransaction, s.alsoLocks])).toEqual([
        ['validate-constraint', 'SHARE UPDATE EXCLUSIVE', true, { table: 'accounts', lock: 'ROW SHARE' }],
        ['validate-constraint', 'SHARE UPDATE EXCLUSIVE', true, undefined],
      ])
      // Application transactions writing both tables stay open through the whole apply.
      const writer = await holdLock(url as string, `INSERT INTO orders VALUES (500, 1, 1, 'n')`)
      const other = await holdLock(url as string, `INSERT INTO accounts VALUES (500)`)
      try {
        const events: ApplyEvent[] = []
        await apply(events)
        const committed = events.flatMap((e) => (e.type === 'steps-committed' ? [e.steps] : []))
        expect(committed).toEqual([[1], [2]])
      } finally {
        await writer.release()
        await other.release()
      }
      expect(await validated(db, 'orders_account_id_fkey')).toBe(true)
    })
  })
})

describe('what a step locks, read from its SQL', () => {
  it('a foreign key added locks both tables SHARE ROW EXCLUSIVE; a validation SHARE UPDATE EXCLUSIVE; the strongest wins', () => {
    const step = (sql: string): MigrationStep => ({ kind: 'add-constraint', subject: 's', lock: 'none', hazards: [], sql })
    const add = step('ALTER TABLE "public"."or ""ders" ADD CONSTRAINT "fk" FOREIGN KEY ("a, ""b", "c") REFERENCES "audit"."accounts" ("x", "y") NOT VALID')
    const validate = step('ALTER TABLE "public"."or ""ders" VALIDATE CONSTRAINT "fk"')
    expect(tablesToLock([validate])).toEqual([{ schema: 'public', name: 'or "ders', mode: 'SHARE UPDATE EXCLUSIVE' }])
    expect(tablesToLock([validate, add])).toEqual([
      { schema: 'public', name: 'or "ders', mode: 'SHARE ROW EXCLUSIVE' },
      { schema: 'audit', name: 'accounts', mode: 'SHARE ROW EXCLUSIVE' },
    ])
    const check = step('ALTER TABLE "public"."or ""ders" ADD CONSTRAINT "c" CHECK (a > 0) NOT VALID')
    expect(tablesToLock([add, check])[0]?.mode).toBe('ACCESS EXCLUSIVE')
  })
})

describe('a step in a transaction of its own, in the file', () => {
  it('counts in the checksum, so a file whose validation lost ownTransaction is refused as edited; files without it keep their checksums', () => {
    const add = { sql: 'ALTER TABLE "public"."t" ADD CONSTRAINT "c" CHECK (a > 0) NOT VALID' }
    const validate = { sql: 'ALTER TABLE "public"."t" VALIDATE CONSTRAINT "c"' }
    expect(checksumOf([add, { ...validate, ownTransaction: true }])).not.toBe(checksumOf([add, validate]))
    expect(checksumOf([add, validate])).toBe(checksumOf([add, { ...validate, ownTransaction: false }]))
    expect(checksumOf([add])).toBe(`sha256:${createHash('sha256').update(JSON.stringify([add.sql])).digest('hex')}`)
  })
})

describe('declaring constraints', () => {
  it('refuses references to tables the schema lacks, to columns that are not a key, and mismatched column counts', () => {
    const loose = table('loose', { id: c.bigint().primaryKey(), code: c.text() })
    const schema = defineSchema(
      accounts,
      table('bad', { id: c.bigint().primaryKey(), a: c.bigint().references(loose, 'id'), b: c.text().references('accounts', 'nope') }, {
        foreignKeys: [foreignKey('id', 'a').references(accounts, 'id'), foreignKey('a').references('bad', 'a')],
        checks: [check('bad_expression', 'a > 0; DROP TABLE x'), check('bad_check', 'a > 1'), check('bad_check', 'a > 2')],
      }),
    )
    expect(() => modelFromDefinition(schema)).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /references table public\.loose, which the schema does not declare[\s\S]*references column nope of accounts[\s\S]*references 1 column\(s\) of accounts for 2 referencing[\s\S]*references \(a\) of bad, which is neither its primary key nor a unique constraint[\s\S]*is not one SQL expression[\s\S]*"bad_check" is declared twice/,
        ),
      }),
    )
  })

  it('names foreign keys as PostgreSQL does and warns when no index leads with their columns', async () => {
    const declared = modelFromDefinition(orders())
    expect(declared.tables.find((t) => t.name === 'orders')?.constraints.map((k) => k.name)).toEqual(['orders_account_id_fkey'])
    await withTestDatabase(enabledTargets()[0] ?? 'pglite', async ({ db, exec }) => {
      await exec(ROWS)
      const plan = await planFor(db, declared)
      const add = plan.steps.find((s) => s.change.kind === 'add-constraint')
      expect(add?.warnings).toEqual([
        "no index on orders leads with (account_id), so each delete or key update on accounts scans orders for referencing rows: declare index('account_id') in its indexes",
      ])
      expect(add?.alsoLocks).toEqual({ table: 'accounts', lock: 'SHARE ROW EXCLUSIVE' })
    })
  })
})
