import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { c, defineSchema, desc, expression, index, type IndexBuilder, type SchemaDefinition, table, unique } from '../src/dsl/index.js'
import { MigratorError } from '../src/errors.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { withTestDatabase } from './support/database.js'
import { enabledTargets } from './support/targets.js'

/**
 * Index names left out of `schema/` are derived as PostgreSQL derives them,
 * so an index made by hand with `CREATE INDEX ON t (...)` is recognised as the
 * declared one. Checked against PostgreSQL itself: each declaration's SQL is
 * run without a name, and the name PostgreSQL picks must be the model's.
 */

const LONG_TABLE = 'a_table_name_long_enough_to_need_cutting_when_named_ünïcödé'
const columns = {
  id: c.integer().primaryKey(),
  email: c.text(),
  org: c.integer(),
  created_at: c.timestamptz(),
  'Mixed Case': c.text(),
  a_rather_long_column_name_that_takes_up_most_of_the_room_here: c.text(),
}

/** Declarations, each with the statement that makes the same index without a name. */
const CASES: readonly { readonly declared: IndexBuilder<keyof typeof columns & string>; readonly ddl: string }[] = [
  { declared: index('email'), ddl: '(email)' },
  { declared: index('org', desc('created_at')), ddl: '(org, created_at DESC)' },
  { declared: index('org', 'org'), ddl: '(org, org)' },
  { declared: index(expression('lower(email)')), ddl: '(lower(email))' },
  { declared: index(expression('LOWER(email)')), ddl: '(LOWER(email))' },
  { declared: index(expression('pg_catalog.upper(email)')), ddl: '(pg_catalog.upper(email))' },
  { declared: index(expression('coalesce(org, 0)')), ddl: '(coalesce(org, 0))' },
  { declared: index(expression('org::text')), ddl: '((org::text))' },
  { declared: index(expression('CAST(org AS bigint)')), ddl: '(CAST(org AS bigint))' },
  { declared: index(expression('(lower(email))::varchar(20)')), ddl: '(((lower(email))::varchar(20)))' },
  { declared: index(expression('org + 1')), ddl: '((org + 1))' },
  { declared: index(expression("email || '@'")), ddl: "((email || '@'))" },
  { declared: index(expression('lower(email) || upper(email)')), ddl: '((lower(email) || upper(email)))' },
  { declared: index('Mixed Case'), ddl: '("Mixed Case")' },
  { declared: index(expression('"lower"("Mixed Case")')), ddl: '("lower"("Mixed Case"))' },
  { declared: index('a_rather_long_column_name_that_takes_up_most_of_the_room_here', 'email'), ddl: '(a_rather_long_column_name_that_takes_up_most_of_the_room_here, email)' },
  { declared: index('email').unique().where('org > 0'), ddl: '(email) WHERE org > 0' },
]

describe.each(enabledTargets())('derived index names on %s', (target) => {
  it.each([LONG_TABLE, 't'])('match the names PostgreSQL picks, in order, on table %s', async (tableName) => {
    const declared = modelFromDefinition(
      defineSchema(table(tableName, columns, { indexes: CASES.map((c) => c.declared), unique: [unique('org', 'email'), unique('org', 'email')] })),
    )
    await withTestDatabase(target, async ({ db }) => {
      const quoted = `"${tableName}"`
      await sql.raw(`CREATE TABLE ${quoted} (id integer PRIMARY KEY, email text, org integer, created_at timestamptz, "Mixed Case" text,
        a_rather_long_column_name_that_takes_up_most_of_the_room_here text)`).execute(db)
      // Constraints first, then indexes in declaration order: the order the model numbers clashing names in.
      for (let i = 0; i < 2; i++) await sql.raw(`ALTER TABLE ${quoted} ADD UNIQUE (org, email)`).execute(db)
      for (const { declared: builder, ddl } of CASES) {
        await sql.raw(`CREATE ${builder.spec.unique ? 'UNIQUE ' : ''}INDEX ON ${quoted} ${ddl}`).execute(db)
      }
      const { rows } = await sql<{ name: string }>`
        SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = ${`public.${quoted}`}::regclass AND NOT i.indisprimary ORDER BY c.oid`.execute(db)
      const names = declared.tables[0]?.indexes.map((ix) => ix.name)
      expect([...(names ?? [])].sort()).toEqual(rows.map((r) => r.name).sort())
      for (const name of names ?? []) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
    })
  })
})

function problemsOf(definition: SchemaDefinition): string {
  try {
    modelFromDefinition(definition)
  } catch (error) {
    expect(error).toBeInstanceOf(MigratorError)
    return (error as Error).message
  }
  throw new Error('expected the definition to be rejected')
}

describe('index declarations are checked when the schema loads', () => {
  it('every problem listed, naming the table: unknown columns, empty keys and predicates, unknown methods, names too long or taken', () => {
    const message = problemsOf(
      defineSchema(
        table('calls', { id: c.integer().primaryKey(), sid: c.text() }, {
          indexes: [
            // @ts-expect-error: the table has no column `nope`
            index('nope'),
            index(expression('  ')),
            index('sid').where(' '),
            // @ts-expect-error: not an index method
            index('sid').using('bitmap'),
            index('sid').name('x'.repeat(64)),
            index('sid').name('calls'),
            // @ts-expect-error: the table has no column `missing`
            index('sid').include('missing'),
          ],
          // @ts-expect-error: the table has no column `other`
          unique: [unique('sid', 'other')],
        }),
      ),
    )
    expect(message).toContain('table calls')
    expect(message).toContain('an index key names column nope, which the table does not declare')
    expect(message).toContain('an index expression is empty')
    expect(message).toContain("an index's where predicate is empty")
    expect(message).toContain('index method bitmap is not one of btree, hash, gin, gist, brin')
    expect(message).toContain(`index name "${'x'.repeat(64)}" is 64 bytes; PostgreSQL keeps only 63`)
    expect(message).toContain('index name "calls" is already the name of another index or table in the same PostgreSQL schema')
    expect(message).toContain("an index's include names column missing")
    expect(message).toContain('a unique constraint names column other')
  })
})
