import { type Kysely, sql } from 'kysely'
import { type ColumnModel, type IdentityKind, type SchemaModel, type TableModel, compareText } from '../model/model.js'
import { normalizeDefault } from '../model/normalize-default.js'
import type { IndexModel } from '../model/index-model.js'
import { canonicalType } from '../model/normalize-type.js'
import { type LiveIndex, readIndexes } from './indexes.js'

/**
 * Reads the live schema in one catalog round trip.
 *
 * Types come from `format_type(atttypid, atttypmod)`, which keeps modifiers
 * (`character varying(255)`, `timestamp(3) with time zone`) that
 * `information_schema` and Kysely's own introspector drop. Defaults come from
 * `pg_get_expr`, the same text `\d` shows.
 */

interface CatalogRow {
  schema: string
  table: string | null
  column: string | null
  type: string | null
  not_null: boolean | null
  default_expr: string | null
  identity: string | null
  pk_position: number | null
}

/**
 * Every ordinary and partitioned table in `namespaces`, with its columns,
 * primary key and indexes (a second round trip, `indexes.ts`). The model's
 * `namespaces` lists those of `namespaces` that exist.
 */
export async function introspect(db: Kysely<unknown>, namespaces: readonly string[]): Promise<SchemaModel> {
  const { rows } = await sql<CatalogRow>`
    SELECT n.nspname AS schema,
           c.relname AS table,
           a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS default_expr,
           a.attidentity::text AS identity,
           array_position(pk.conkey, a.attnum) AS pk_position
      FROM pg_catalog.pg_namespace n
      LEFT JOIN pg_catalog.pg_class c
             ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      LEFT JOIN pg_catalog.pg_attribute a
             ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
     WHERE n.nspname = ANY(${[...namespaces]})
     ORDER BY n.nspname, c.relname, a.attnum`.execute(db)

  return modelFromCatalog(rows, await readIndexes(db, { namespaces }))
}

function modelFromCatalog(rows: readonly CatalogRow[], indexes: readonly LiveIndex[]): SchemaModel {
  const namespaces = new Set<string>()
  const tables = new Map<string, { schema: string; name: string; columns: ColumnModel[]; keyed: [number, string][] }>()
  for (const row of rows) {
    namespaces.add(row.schema)
    if (row.table === null) continue // a schema with no tables
    const key = `${row.schema}.${row.table}`
    let table = tables.get(key)
    if (!table) {
      table = { schema: row.schema, name: row.table, columns: [], keyed: [] }
      tables.set(key, table)
    }
    if (row.column === null || row.type === null) continue // a table with no columns
    const type = canonicalType(row.type)
    const canonicalDefault = row.default_expr === null ? null : normalizeDefault(row.default_expr, type)
    table.columns.push({
      name: row.column,
      type,
      nullable: row.not_null !== true,
      default:
        row.default_expr === null || canonicalDefault === null
          ? null
          : { sql: row.default_expr, canonical: canonicalDefault },
      identity: identityKind(row.identity),
    })
    if (row.pk_position !== null) table.keyed.push([row.pk_position, row.column])
  }

  const indexesOf = new Map<string, IndexModel[]>()
  for (const live of indexes) {
    const key = `${live.schema}.${live.table}`
    indexesOf.set(key, [...(indexesOf.get(key) ?? []), live.index])
  }
  const models: TableModel[] = [...tables.entries()].map(([key, t]) => ({
    schema: t.schema,
    name: t.name,
    columns: t.columns,
    primaryKey: t.keyed.sort(([a], [b]) => a - b).map(([, name]) => name),
    indexes: indexesOf.get(key) ?? [],
  }))
  // ORDER BY sorts by the server's collation; re-sort by code point so both models agree.
  models.sort((a, b) => compareText(`${a.schema}.${a.name}`, `${b.schema}.${b.name}`))
  return { namespaces: [...namespaces].sort(compareText), tables: models }
}

function identityKind(code: string | null): IdentityKind | null {
  if (code === 'a') return 'always'
  if (code === 'd') return 'by-default'
  return null
}
