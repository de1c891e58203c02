import { type Kysely, sql } from 'kysely'
import {
  type ColumnDefault,
  type ColumnModel,
  compareText,
  type GeneratedColumn,
  type IdentityKind,
  type SchemaModel,
  type TableModel,
} from '../model/model.js'
import { canonicalExpression, memoizedDefaultModel, sequenceDefaultText, sequenceOfDefault } from '../model/normalize-default.js'
import type { IndexModel } from '../model/index-model.js'
import { memoized } from '../model/memoized.js'
import { canonicalType } from '../model/normalize-type.js'
import { type LiveConstraint, readConstraints } from './constraints.js'
import { readEnums } from './enums.js'
import { type LiveIndex, readIndexes } from './indexes.js'

/**
 * Reads the live schema in one catalog round trip (two when defaults draw from sequences).
 *
 * The rows come unordered: sorting twenty thousand of them on the server took
 * longer than the rest of the query, and the model orders what it needs
 * (tables by name, columns by position) in memory.
 *
 * Types come from `format_type(atttypid, atttypmod)`, which keeps modifiers
 * (`character varying(255)`, `timestamp(3) with time zone`) that
 * `information_schema` and Kysely's own introspector drop. Defaults and
 * generation expressions come from `pg_get_expr`, the same text `\d` shows;
 * `attgenerated` tells the two apart. A `nextval` default's sequence is
 * read from `pg_depend` (which sequence, in which schema, owned by the
 * column or not), never guessed from its printed name.
 */

interface CatalogRow {
  schema: string
  table: string | null
  partition_key: string | null
  column: string | null
  type: string | null
  not_null: boolean | null
  default_expr: string | null
  identity: string | null
  generated: string | null
  pk_position: number | null
  default_oid: string | null
  position: number | null
}

/** The sequence a `nextval` default draws from, by its `pg_attrdef` oid. */
type DefaultSequences = ReadonlyMap<string, { readonly schema: string; readonly name: string; readonly owned: boolean }>

/**
 * Every ordinary and partitioned table in `namespaces` (partitions are part
 * of their parent), with its columns, primary key and indexes (a second
 * round trip, `indexes.ts`) and enum types (a third, `enums.ts`). The model's
 * `namespaces` lists those of `namespaces` that exist.
 */
export async function introspect(db: Kysely<unknown>, namespaces: readonly string[]): Promise<SchemaModel> {
  const { rows } = await sql<CatalogRow>`
    SELECT n.nspname AS schema,
           c.relname AS table,
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
           a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS default_expr,
           a.attidentity::text AS identity,
           a.attgenerated::text AS generated,
           array_position(pk.conkey, a.attnum) AS pk_position,
           d.oid::text AS default_oid,
           a.attnum AS position
      FROM pg_catalog.pg_namespace n
      LEFT JOIN pg_catalog.pg_class c
             ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      LEFT JOIN pg_catalog.pg_attribute a
             ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
     WHERE n.nspname = ANY(${[...namespaces]})`.execute(db)

  const model = modelFromCatalog(rows, await defaultSequences(db, rows), await readIndexes(db, { namespaces }))
  const enums = await readEnums(db, model.namespaces)
  return withConstraints({ ...model, enums }, await readConstraints(db, { namespaces }))
}

function withConstraints(model: ReturnType<typeof modelFromCatalog> & Pick<SchemaModel, 'enums'>, constraints: readonly LiveConstraint[]): SchemaModel {
  const of = new Map<string, LiveConstraint['constraint'][]>()
  for (const live of constraints) {
    const key = `${live.schema}.${live.table}`
    of.set(key, [...(of.get(key) ?? []), live.constraint])
  }
  return { ...model, tables: model.tables.map((table) => ({ ...table, constraints: of.get(`${table.schema}.${table.name}`) ?? [] })) }
}

/**
 * Which sequence each `nextval` default draws from, and whether its column
 * owns it, from `pg_depend`: a second, small round trip, only when there are
 * such defaults (joining it into the main query cost every column).
 */
async function defaultSequences(db: Kysely<unknown>, rows: readonly CatalogRow[]): Promise<DefaultSequences> {
  const oids = rows.flatMap((row) => (row.default_oid !== null && row.default_expr !== null && sequenceOfDefault(row.default_expr) ? [row.default_oid] : []))
  if (oids.length === 0) return new Map()
  const { rows: found } = await sql<{ attrdef: string; schema: string; name: string; owned: boolean }>`
    SELECT dd.objid::text AS attrdef, sn.nspname AS schema, s.relname AS name,
           EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                    WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objid = s.oid AND o.deptype = 'a'
                      AND o.refclassid = 'pg_catalog.pg_class'::regclass
                      AND o.refobjid = ad.adrelid AND o.refobjsubid = ad.adnum) AS owned
      FROM pg_catalog.pg_depend dd
      JOIN pg_catalog.pg_attrdef ad ON ad.oid = dd.objid
      JOIN pg_catalog.pg_class s ON s.oid = dd.refobjid AND s.relkind = 'S'
      JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
     WHERE dd.classid = 'pg_catalog.pg_attrdef'::regclass AND dd.objid = ANY(${oids}::oid[])
       AND dd.refclassid = 'pg_catalog.pg_class'::regclass`.execute(db)
  return new Map(found.map((row) => [row.attrdef, { schema: row.schema, name: row.name, owned: row.owned }]))
}

function modelFromCatalog(
  rows: readonly CatalogRow[],
  sequences: DefaultSequences,
  indexes: readonly LiveIndex[],
): Omit<SchemaModel, 'tables' | 'enums'> & { tables: Omit<TableModel, 'constraints'>[] } {
  // A schema spells few distinct types and defaults over many columns: each is normalized once.
  const canonicalTypeOf = memoized(canonicalType)
  const defaultOf = memoizedDefaultModel()
  const namespaces = new Set<string>()
  const tables = new Map<
    string,
    { table: Omit<TableModel, 'primaryKey' | 'indexes' | 'constraints' | 'columns'>; columns: [number, ColumnModel][]; keyed: [number, string][] }
  >()
  for (const row of rows) {
    namespaces.add(row.schema)
    if (row.table === null) continue // a schema with no tables
    const key = `${row.schema}.${row.table}`
    let entry = tables.get(key)
    if (!entry) {
      const partitionBy = row.partition_key === null ? null : { sql: row.partition_key, canonical: canonicalExpression(row.partition_key) }
      entry = { table: { schema: row.schema, name: row.table, partitionBy }, columns: [], keyed: [] }
      tables.set(key, entry)
    }
    if (row.column === null || row.type === null) continue // a table with no columns
    const type = canonicalTypeOf(row.type)
    const generated = generatedColumn(row)
    entry.columns.push([row.position ?? 0, {
      name: row.column,
      type,
      nullable: row.not_null !== true,
      default: generated || row.default_expr === null ? null : liveDefault(row.default_expr, type, sequences.get(row.default_oid ?? ''), defaultOf),
      identity: identityKind(row.identity),
      generated,
      catalogType: false,
    }])
    if (row.pk_position !== null) entry.keyed.push([row.pk_position, row.column])
  }

  const indexesOf = new Map<string, IndexModel[]>()
  for (const live of indexes) {
    const key = `${live.schema}.${live.table}`
    indexesOf.set(key, [...(indexesOf.get(key) ?? []), live.index])
  }
  const byPosition = (a: [number, unknown], b: [number, unknown]) => a[0] - b[0]
  const models: Omit<TableModel, 'constraints'>[] = [...tables.entries()].map(([key, { table, columns, keyed }]) => ({
    ...table,
    columns: columns.sort(byPosition).map(([, column]) => column),
    primaryKey: keyed.sort(([a], [b]) => a - b).map(([, name]) => name),
    indexes: indexesOf.get(key) ?? [],
  }))
  // By code point, as the declared model sorts them, so both models agree.
  models.sort((a, b) => compareText(`${a.schema}.${a.name}`, `${b.schema}.${b.name}`))
  return { namespaces: [...namespaces].sort(compareText), tables: models }
}

/** A `nextval` default names its sequence as `pg_depend` has it, whatever `search_path` made of the printed name. */
function liveDefault(
  expression: string,
  type: string,
  drawsFrom: { readonly schema: string; readonly name: string; readonly owned: boolean } | undefined,
  defaultOf: (expression: string, type: string) => ColumnDefault | null,
): ColumnDefault | null {
  if (drawsFrom && sequenceOfDefault(expression)) {
    const sequence = { schema: drawsFrom.schema, name: drawsFrom.name, ownedByColumn: drawsFrom.owned }
    return { sql: expression, canonical: sequenceDefaultText(sequence), sequence }
  }
  return defaultOf(expression, type)
}

function generatedColumn(row: CatalogRow): GeneratedColumn | null {
  if ((row.generated !== 's' && row.generated !== 'v') || row.default_expr === null) return null
  return { kind: row.generated === 's' ? 'stored' : 'virtual', sql: row.default_expr, canonical: canonicalExpression(row.default_expr) }
}

function identityKind(code: string | null): IdentityKind | null {
  if (code === 'a') return 'always'
  if (code === 'd') return 'by-default'
  return null
}
