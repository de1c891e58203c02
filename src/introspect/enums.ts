import { type Kysely, sql } from 'kysely'
import { elementTypeOf, type EnumModel, enumKey, enumSpelling, sortEnums } from '../model/enum-model.js'
import type { SchemaModel } from '../model/model.js'
import { createEnumSql } from '../plan/enums.js'

/**
 * The enum types of some namespaces, with their labels in `enumsortorder`
 * (the order PostgreSQL sorts and compares values by, which `ADD VALUE
 * BEFORE/AFTER` may have made differ from creation order), in one round trip.
 * An enum with no labels is read too (`CREATE TYPE e AS ENUM ()`); one an
 * extension owns is left out, as the extension's to manage.
 */
export async function readEnums(db: Kysely<unknown>, namespaces: readonly string[]): Promise<EnumModel[]> {
  const { rows } = await sql<{ schema: string; name: string; printed: string; labels: string[] | null }>`
    SELECT n.nspname AS schema,
           t.typname AS name,
           format_type(t.oid, NULL) AS printed,
           array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FILTER (WHERE e.enumlabel IS NOT NULL) AS labels
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
     WHERE t.typtype = 'e' AND n.nspname = ANY(${[...namespaces]})
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                        WHERE x.classid = 'pg_catalog.pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e')
     GROUP BY n.nspname, t.typname, t.oid`.execute(db)
  return sortEnums(rows.map((row) => ({ schema: row.schema, name: row.name, labels: parseLabels(row.labels), printed: row.printed })))
}

/** node-postgres parses `text[]`; PGlite too. Anything else is a bug worth seeing. */
function parseLabels(labels: string[] | null): string[] {
  if (labels === null) return []
  if (!Array.isArray(labels)) throw new Error(`enum labels arrived as ${typeof labels}, not an array`)
  return labels
}

/**
 * For the index probe (`index-probe.ts`), inside its rolled-back transaction:
 * a temporary copy of each enum `schema/` declares and the target lacks yet,
 * so that the probe's temporary tables can have the columns that use it.
 *
 * @returns the type a probe column is declared with, for a declared column type.
 */
export async function createProbeEnums(trx: Kysely<unknown>, declared: SchemaModel, live: SchemaModel): Promise<(type: string) => string> {
  const existing = new Set(live.enums.map(enumKey))
  const copies = new Map<string, string>()
  for (const [i, wanted] of declared.enums.filter((e) => !existing.has(enumKey(e))).entries()) {
    const copy = { schema: 'pg_temp', name: `schema_migrate_probe_enum_${i}` }
    await sql.raw(createEnumSql(copy, wanted.labels)).execute(trx)
    copies.set(enumSpelling(wanted), enumSpelling(copy))
  }
  return (type) => {
    const element = elementTypeOf(type)
    const copy = copies.get(element)
    return copy === undefined ? type : `${copy}${type.slice(element.length)}`
  }
}
