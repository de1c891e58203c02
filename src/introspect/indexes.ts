import { type Kysely, sql } from 'kysely'
import type { IndexModel } from '../model/index-model.js'
import { compareText } from '../model/model.js'

/**
 * Indexes and unique constraints from `pg_index` and `pg_constraint`, in one
 * round trip. Each comes with `pg_get_indexdef`, PostgreSQL's own rendering,
 * cut after the table name: from `USING` on it holds the method, every key
 * with its order, nulls, operator class and collation (each shown only when
 * not the default), `INCLUDE`, storage parameters and the `WHERE` predicate,
 * all normalized by PostgreSQL itself.
 *
 * Left out: the primary key's index (the table model holds the key) and
 * indexes behind exclusion constraints, which `schema/` cannot declare.
 */

interface IndexRow {
  schema: string
  table: string
  name: string
  unique: boolean
  valid: boolean
  constraint: boolean
  deferrable: boolean
  deferred: boolean
  definition: string
  quoted_name: string
  quoted_schema: string
  quoted_table: string
  quoted_method: string
}

export interface LiveIndex {
  readonly schema: string
  readonly table: string
  readonly index: IndexModel
}

/** Which tables to read: every table in some namespaces, or tables by oid (temporary copies). */
export type IndexScope = { readonly namespaces: readonly string[] } | { readonly tableOids: readonly number[] }

export async function readIndexes(db: Kysely<unknown>, scope: IndexScope): Promise<LiveIndex[]> {
  const where =
    'namespaces' in scope
      ? sql`n.nspname = ANY(${[...scope.namespaces]}) AND t.relkind IN ('r', 'p') AND NOT t.relispartition`
      : sql`t.oid = ANY(${[...scope.tableOids]}::oid[])`
  const { rows } = await sql<IndexRow>`
    SELECT n.nspname AS schema,
           t.relname AS table,
           ic.relname AS name,
           i.indisunique AS unique,
           i.indisvalid AS valid,
           con.oid IS NOT NULL AS constraint,
           coalesce(con.condeferrable, false) AS deferrable,
           coalesce(con.condeferred, false) AS deferred,
           pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
           quote_ident(ic.relname) AS quoted_name,
           quote_ident(n.nspname) AS quoted_schema,
           quote_ident(t.relname) AS quoted_table,
           quote_ident(am.amname) AS quoted_method
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_catalog.pg_am am ON am.oid = ic.relam
      LEFT JOIN pg_catalog.pg_constraint con
             ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype = 'u'
     WHERE ${where}
       AND NOT i.indisprimary
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x
                        WHERE x.conindid = i.indexrelid AND x.conrelid = i.indrelid AND x.contype = 'x')
     ORDER BY n.nspname, t.relname, ic.relname`.execute(db)

  const indexes = rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    index: {
      name: row.name,
      unique: row.unique,
      constraint: row.constraint,
      definition: null,
      canonical: canonicalOf(row),
      valid: row.valid,
    },
  }))
  // ORDER BY follows the server's collation; the model sorts by code point.
  return indexes.sort(
    (a, b) => compareText(a.schema, b.schema) || compareText(a.table, b.table) || compareText(a.index.name, b.index.name),
  )
}

/**
 * The part of `pg_get_indexdef` that describes the index itself, from `USING`
 * on: without its name and its table's, so a temporary copy compares equal.
 * A deferrable constraint says so, since `schema/` declares only immediate ones.
 */
function canonicalOf(row: IndexRow): string {
  const head = `CREATE ${row.unique ? 'UNIQUE ' : ''}INDEX ${row.quoted_name} ON `
  let rest = row.definition.startsWith(head) ? row.definition.slice(head.length) : row.definition
  rest = rest.replace(/^ONLY /, '')
  // PostgreSQL prints a temporary table's schema as `pg_temp`, not its pg_temp_N name: find USING then.
  const qualified = `${row.quoted_schema}.${row.quoted_table} `
  const using = `USING ${row.quoted_method} (`
  rest = rest.startsWith(qualified) ? rest.slice(qualified.length) : rest.slice(Math.max(0, rest.indexOf(` ${using}`) + 1))
  if (row.deferrable) rest += row.deferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE'
  return rest
}
