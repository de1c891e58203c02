import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import type { CheckModel } from '../model/constraint-model.js'
import { displayTableName, type SchemaModel, type TableModel, tableKey } from '../model/model.js'
import { addCheckSql } from '../plan/render-constraint-sql.js'
import { sqlStateOf } from '../target/database-errors.js'
import { readConstraints } from './constraints.js'
import { createProbeEnums } from './enums.js'
import { createTemporaryCopy, probeFailure } from './index-probe.js'

/**
 * PostgreSQL's own spelling of declared check constraints, found as the
 * declared indexes' is (`index-probe.ts`): each check is added, with the DDL
 * the plan would run, to an empty temporary table holding the declared
 * columns, and read back with the query that reads the live ones, inside a
 * transaction that is rolled back. `amount>0` then compares equal to the
 * `CHECK ((amount > (0)::numeric))` the catalog holds.
 *
 * An expression PostgreSQL rejects is reported here, at plan time, naming the check.
 */

/** `declared` with `canonical` filled in for its checks: those the live database has by name, or all of them. */
export async function spellDeclaredChecks(db: Kysely<unknown>, declared: SchemaModel, live: SchemaModel, options: { readonly all: boolean }): Promise<SchemaModel> {
  const liveTables = new Map(live.tables.map((table) => [tableKey(table), table]))
  const wanted = declared.tables
    .map((table) => {
      const liveNames = new Set(liveTables.get(tableKey(table))?.constraints.map((c) => c.name) ?? [])
      const checks = table.constraints.filter((c): c is CheckModel => c.kind === 'check' && (options.all || liveNames.has(c.name)))
      return { table, checks }
    })
    .filter((entry) => entry.checks.length > 0)
  if (wanted.length === 0) return declared

  const spelled = await probe(db, wanted, declared, live)
  return {
    ...declared,
    tables: declared.tables.map((table) => ({
      ...table,
      constraints: table.constraints.map((constraint) => {
        const canonical = spelled.get(`${tableKey(table)}\0${constraint.name}`)
        return canonical === undefined || constraint.kind !== 'check' ? constraint : { ...constraint, canonical }
      }),
    })),
  }
}

/** Sentinel that ends the probe's transaction with a rollback. */
class RollBack extends Error {}

async function probe(
  db: Kysely<unknown>,
  wanted: readonly { readonly table: TableModel; readonly checks: readonly CheckModel[] }[],
  declared: SchemaModel,
  live: SchemaModel,
): Promise<Map<string, string>> {
  const spelled = new Map<string, string>()
  const problems: string[] = []
  try {
    await db.transaction().execute(async (trx) => {
      const copies = new Map<string, string>()
      const oids: number[] = []
      // Enums the plan creates or changes, as the index probe has them: a check may name a new label.
      const types = await createProbeEnums(trx, declared, live)
      for (const [t, { table, checks }] of wanted.entries()) {
        const copy = { schema: 'pg_temp', name: `schema_migrate_check_probe_${t}` }
        copies.set(copy.name, tableKey(table))
        oids.push(await createTemporaryCopy(trx, table, copy.name, types.columnType))
        for (const check of checks) {
          // A savepoint per check, so that every rejected declaration is reported, not only the first.
          await sql`SAVEPOINT schema_migrate_probe`.execute(trx)
          try {
            await sql.raw(addCheckSql(copy, check, { notValid: false })).execute(trx)
            await sql`RELEASE SAVEPOINT schema_migrate_probe`.execute(trx)
          } catch (error) {
            if (sqlStateOf(error) === '25006') throw error
            await sql`ROLLBACK TO SAVEPOINT schema_migrate_probe`.execute(trx)
            problems.push(`table ${displayTableName(table)}, check ${check.name}: PostgreSQL rejects its expression: ${(error as Error).message}`)
          }
        }
      }
      for (const found of await readConstraints(trx, { tableOids: oids })) {
        const table = copies.get(found.table)
        if (table !== undefined && found.constraint.kind === 'check') spelled.set(`${table}\0${found.constraint.name}`, types.respell(found.constraint.canonical as string))
      }
      throw new RollBack()
    })
  } catch (error) {
    if (!(error instanceof RollBack)) {
      throw probeFailure(error, 'check constraints', 'each declared check is added to an empty temporary table inside a transaction that is rolled back, so none of your tables is touched')
    }
  }
  if (problems.length > 0) {
    throw new MigratorError('schema', `the schema declares check constraints PostgreSQL rejects:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the check declarations in schema/ (their expressions are SQL over the table\'s columns, checked by PostgreSQL) and run the command again',
    })
  }
  return spelled
}
