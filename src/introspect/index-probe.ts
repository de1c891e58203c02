import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import type { IndexModel } from '../model/index-model.js'
import { displayTableName, type SchemaModel, type TableModel, tableKey } from '../model/model.js'
import { probeIndexSql } from '../plan/render-index-sql.js'
import { sqlStateOf } from '../target/database-errors.js'
import { createProbeEnums, type ProbeTypes } from './enums.js'
import { readIndexes } from './indexes.js'

/**
 * PostgreSQL's own spelling of declared indexes.
 *
 * An index definition is SQL (`lower(email)`, `status = 'queued'`) that
 * PostgreSQL stores parsed and prints back its own way (`(status =
 * 'queued'::text)`), choosing which operator classes, collations and nulls
 * orders to show. Rather than imitate that, each declared index is built, with
 * the DDL the plan would run, on an empty temporary table holding the declared
 * columns, and read back with the very query that reads the live indexes. The
 * transaction is rolled back: nothing is left behind, and no table of the
 * application is touched or locked.
 *
 * It also checks the declaration: an expression, predicate, operator class or
 * method PostgreSQL rejects is reported here, at plan time, by index name.
 */

export interface ProbeOptions {
  /**
   * Probe every declared index (`schema:plan`, which must not write a build
   * that fails), rather than only those the live database has by name, whose
   * definitions must be compared.
   */
  readonly all: boolean
}

/** `declared` with `canonical` filled in for the indexes probed. */
export async function spellDeclaredIndexes(db: Kysely<unknown>, declared: SchemaModel, live: SchemaModel, options: ProbeOptions): Promise<SchemaModel> {
  const liveTables = new Map(live.tables.map((table) => [tableKey(table), table]))
  const wanted = declared.tables
    .map((table) => {
      const liveNames = new Set(liveTables.get(tableKey(table))?.indexes.map((index) => index.name) ?? [])
      return { table, indexes: table.indexes.filter((index) => options.all || liveNames.has(index.name)) }
    })
    .filter((entry) => entry.indexes.length > 0)
  if (wanted.length === 0) return declared

  const spelled = await probe(db, wanted, (trx) => createProbeEnums(trx, declared, live))
  return {
    ...declared,
    tables: declared.tables.map((table) => ({
      ...table,
      indexes: table.indexes.map((index) => {
        const canonical = spelled.get(`${tableKey(table)}\0${index.name}`)
        return canonical === undefined ? index : { ...index, canonical }
      }),
    })),
  }
}

/**
 * Why the probe could not run at all, where the session is not one that can run it.
 * `what` is what it compares; `how`, how it goes about it.
 */
export function probeFailure(
  error: unknown,
  what = 'index definitions',
  how = 'each declared index is built on an empty temporary table inside a transaction that is rolled back, so none of your tables is touched',
): unknown {
  switch (sqlStateOf(error)) {
    case '25006':
      return new MigratorError('introspect', `comparing ${what} needs a session that can create temporary tables, and this one is read-only`, {
        hint: `run it against the primary: ${how}`,
        cause: error,
      })
    case '08P01':
      return new MigratorError('introspect', `comparing ${what} needs a transaction, which the server or a pooler in between refused: ${(error as Error).message}`, {
        hint: `connect directly (DATABASE_URL_DIRECT) or through transaction pooling; PgBouncer's statement pooling refuses transactions. ${how}`,
        cause: error,
      })
    default:
      return error
  }
}

/**
 * An empty temporary table with `table`'s declared columns, for a probe; returns its oid.
 * `columnType` spells a declared type as the probe can create it (an enum the target lacks yet
 * is a stand-in type of the probe's own).
 */
export async function createTemporaryCopy(
  trx: Kysely<unknown>,
  table: TableModel,
  name: string,
  columnType: (type: string) => string = (type) => type,
): Promise<number> {
  const columns = table.columns.map((column) => sql`${sql.id(column.name)} ${sql.raw(columnType(column.type))}`)
  await sql`CREATE TEMPORARY TABLE ${sql.id(name)} (${sql.join(columns)})`.execute(trx)
  const { rows } = await sql<{ oid: number }>`SELECT ${`pg_temp.${name}`}::regclass::oid AS oid`.execute(trx)
  return Number(rows[0]?.oid)
}

/** Sentinel that ends the probe's transaction with a rollback. */
class RollBack extends Error {}

async function probe(
  db: Kysely<unknown>,
  wanted: readonly { readonly table: TableModel; readonly indexes: readonly IndexModel[] }[],
  /** Prepares the types the temporary tables need that the target lacks yet (or lacks labels of). */
  prepareTypes: (trx: Kysely<unknown>) => Promise<ProbeTypes>,
): Promise<Map<string, string>> {
  const spelled = new Map<string, string>()
  const problems: string[] = []
  try {
    await db.transaction().execute(async (trx) => {
      const probes = new Map<string, string>()
      const oids: number[] = []
      const types = await prepareTypes(trx)
      for (const [t, { table, indexes }] of wanted.entries()) {
        const copy = { schema: 'pg_temp', name: `schema_migrate_probe_${t}` }
        oids.push(await createTemporaryCopy(trx, table, copy.name, types.columnType))
        for (const [i, index] of indexes.entries()) {
          if (index.definition === null) continue
          const name = `${copy.name}_${i}`
          probes.set(`${copy.name}\0${name}`, `${tableKey(table)}\0${index.name}`)
          // A savepoint per index, so that every rejected declaration is reported, not only the first.
          await sql`SAVEPOINT schema_migrate_probe`.execute(trx)
          try {
            await sql.raw(probeIndexSql(copy, name, { unique: index.unique, definition: index.definition })).execute(trx)
            await sql`RELEASE SAVEPOINT schema_migrate_probe`.execute(trx)
          } catch (error) {
            if (sqlStateOf(error) === '25006') throw error
            await sql`ROLLBACK TO SAVEPOINT schema_migrate_probe`.execute(trx)
            problems.push(`table ${displayTableName(table)}, index ${index.name}: PostgreSQL rejects its definition: ${(error as Error).message}`)
          }
        }
      }
      for (const found of await readIndexes(trx, { tableOids: oids })) {
        const declaredKey = probes.get(`${found.table}\0${found.index.name}`)
        if (declaredKey !== undefined && found.index.canonical !== null) spelled.set(declaredKey, types.respell(found.index.canonical))
      }
      throw new RollBack()
    })
  } catch (error) {
    if (!(error instanceof RollBack)) throw probeFailure(error)
  }
  if (problems.length > 0) {
    throw new MigratorError('schema', `the schema declares indexes PostgreSQL rejects:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the index declarations in schema/ (expressions and where predicates are SQL, checked by PostgreSQL) and run the command again',
    })
  }
  return spelled
}
