import { type Kysely, sql } from 'kysely'
import { elementTypeOf, type EnumModel, enumKey, enumSpelling, sameLabels, sortEnums } from '../model/enum-model.js'
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

/** What the index probe (`index-probe.ts`) needs for enums the plan creates or changes. */
export interface ProbeTypes {
  /** The type a probe column is declared with, for a declared column type. */
  readonly columnType: (type: string) => string
  /** A probed index definition with each copy's name put back as the target spells the enum. */
  readonly respell: (definition: string) => string
}

/**
 * For the index probe, inside its rolled-back transaction: a temporary copy,
 * with the declared labels, of each enum `schema/` declares that the target
 * lacks or has with other labels, so that the probe's temporary tables can
 * have the columns that use it and an index may name a label the plan adds.
 */
export async function createProbeEnums(trx: Kysely<unknown>, declared: SchemaModel, live: SchemaModel): Promise<ProbeTypes> {
  const liveByKey = new Map(live.enums.map((e) => [enumKey(e), e]))
  const copies = new Map<string, string>()
  const respellings: [RegExp, string][] = []
  for (const wanted of declared.enums) {
    const current = liveByKey.get(enumKey(wanted))
    if (current && sameLabels(current.labels, wanted.labels)) continue
    const copy = { schema: 'pg_temp', name: `schema_migrate_probe_enum_${copies.size}` }
    await sql.raw(createEnumSql(copy, wanted.labels)).execute(trx)
    copies.set(enumSpelling(wanted), enumSpelling(copy))
    if (current?.printed !== undefined) {
      copies.set(current.printed, enumSpelling(copy))
      // PostgreSQL prints a temporary type bare (pg_temp is searched first for types).
      respellings.push([new RegExp(String.raw`(?:pg_temp\.)?\b${copy.name}\b`, 'g'), current.printed])
    }
  }
  return {
    columnType: (type) => {
      const element = elementTypeOf(type)
      const copy = copies.get(element)
      return copy === undefined ? type : `${copy}${type.slice(element.length)}`
    },
    respell: (definition) => respellings.reduce((text, [copy, printed]) => text.replace(copy, () => printed), definition),
  }
}
