import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import type { ForeignKeyModel } from '../model/constraint-model.js'
import { displayTableName, type SchemaModel, type TableModel, tableKey } from '../model/model.js'
import { addForeignKeySql } from '../plan/render-constraint-sql.js'
import { sqlStateOf } from '../target/database-errors.js'
import { createProbeEnums } from './enums.js'
import { createTemporaryCopy, probeFailure } from './index-probe.js'

/**
 * Whether PostgreSQL can implement each declared foreign key: its columns'
 * types must compare with the referenced ones' (`bigint` to `bigint` or
 * `integer`, not `text` to `bigint`). The schema cannot tell offline, and
 * the server would only say so at `ADD CONSTRAINT`, in the middle of an
 * apply, after earlier steps had committed. So each foreign key is added,
 * with the DDL the plan would run, between empty temporary copies of its
 * tables (the referenced columns made unique, as the schema requires),
 * inside a transaction that is rolled back.
 */

/** Sentinel that ends the probe's transaction with a rollback. */
class RollBack extends Error {}

/** @throws MigratorError (stage `schema`) naming every foreign key PostgreSQL cannot implement. */
export async function checkDeclaredForeignKeys(db: Kysely<unknown>, declared: SchemaModel, live: SchemaModel): Promise<void> {
  const byKey = new Map(declared.tables.map((table) => [tableKey(table), table]))
  const wanted = declared.tables.flatMap((table) =>
    table.constraints.filter((c): c is ForeignKeyModel => c.kind === 'foreign-key').map((key) => ({ table, key, referenced: byKey.get(tableKey(key.references)) })),
  )
  if (wanted.length === 0) return
  const problems: string[] = []
  try {
    await db.transaction().execute(async (trx) => {
      const types = await createProbeEnums(trx, declared, live)
      const copies = new Map<string, { schema: string; name: string }>()
      const copyOf = async (table: TableModel) => {
        const known = copies.get(tableKey(table))
        if (known) return known
        const copy = { schema: 'pg_temp', name: `schema_migrate_fk_probe_${copies.size}` }
        copies.set(tableKey(table), copy)
        await createTemporaryCopy(trx, table, copy.name, types.columnType)
        return copy
      }
      for (const { table, key, referenced } of wanted) {
        if (!referenced) continue
        const from = await copyOf(table)
        const to = await copyOf(referenced)
        // A savepoint per key, rolled back each time: every refused key is reported, and the unique index goes with it.
        await sql`SAVEPOINT schema_migrate_probe`.execute(trx)
        try {
          await sql`CREATE UNIQUE INDEX ON ${sql.id(to.schema, to.name)} (${sql.join(key.references.columns.map((c) => sql.id(c)))})`.execute(trx)
          await sql.raw(addForeignKeySql(from, { ...key, references: { ...to, columns: key.references.columns } }, { notValid: false })).execute(trx)
        } catch (error) {
          if (sqlStateOf(error) === '25006') throw error
          const detail = (error as { detail?: unknown }).detail
          problems.push(`table ${displayTableName(table)}, foreign key ${key.name}: PostgreSQL cannot add it: ${(error as Error).message}${typeof detail === 'string' ? ` (${detail})` : ''}`)
        }
        await sql`ROLLBACK TO SAVEPOINT schema_migrate_probe`.execute(trx)
      }
      throw new RollBack()
    })
  } catch (error) {
    if (!(error instanceof RollBack)) {
      throw probeFailure(error, 'foreign keys', 'each declared foreign key is added between empty temporary tables inside a transaction that is rolled back, so none of your tables is touched')
    }
  }
  if (problems.length > 0) {
    throw new MigratorError('schema', `the schema declares foreign keys PostgreSQL cannot add:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'give each foreign key column the type of the column it references (or one PostgreSQL compares with it, such as integer with bigint), then run the command again',
    })
  }
}
