import { type Kysely, sql } from 'kysely'
import { tableKey } from '../model/model.js'

/**
 * Facts about the live database that decide a change's hazards but are not
 * part of the schema: whether a table holds rows, whether a function is
 * volatile. Asked only for the tables and functions a plan touches.
 */
export interface DatabaseFacts {
  /** `schema.table` keys of tables that hold at least one row. */
  readonly populatedTables: ReadonlySet<string>
  /** Lower-case names of functions PostgreSQL marks VOLATILE (`random`, `gen_random_uuid`, `clock_timestamp`). */
  readonly volatileFunctions: ReadonlySet<string>
}

export const NO_FACTS: DatabaseFacts = { populatedTables: new Set(), volatileFunctions: new Set() }

export interface FactsQuestion {
  readonly tables: readonly { readonly schema: string; readonly name: string }[]
  readonly functions: readonly string[]
}

/** One round trip for all the tables and functions asked about; none when nothing is asked. */
export async function probeFacts(db: Kysely<unknown>, question: FactsQuestion): Promise<DatabaseFacts> {
  if (question.tables.length === 0 && question.functions.length === 0) return NO_FACTS

  // `EXISTS (SELECT 1 FROM t)` reads at most one row per table, whatever its size.
  const populated = question.tables.map(
    (t) => sql<{ kind: string; name: string }>`SELECT 'table' AS kind, ${tableKey(t)} AS name
       WHERE EXISTS (SELECT 1 FROM ${sql.id(t.schema, t.name)})`,
  )
  const volatile = sql<{ kind: string; name: string }>`SELECT DISTINCT 'function' AS kind, proname::text AS name
      FROM pg_catalog.pg_proc WHERE provolatile = 'v' AND proname = ANY(${[...question.functions]})`
  const { rows } = await sql<{ kind: string; name: string }>`${sql.join([...populated, volatile], sql` UNION ALL `)}`.execute(db)

  return {
    populatedTables: new Set(rows.filter((r) => r.kind === 'table').map((r) => r.name)),
    volatileFunctions: new Set(rows.filter((r) => r.kind === 'function').map((r) => r.name)),
  }
}

/** Function names called in a default expression, outside string literals. */
export function functionsCalledIn(expression: string): string[] {
  const unquoted = expression.replace(/'(?:[^']|'')*'/g, "''")
  return [...unquoted.matchAll(/([a-z_][a-z0-9_]*)\s*\(/gi)].map((m) => (m[1] as string).toLowerCase())
}
