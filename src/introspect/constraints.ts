import { type Kysely, sql } from 'kysely'
import type { ConstraintModel, ReferentialAction } from '../model/constraint-model.js'
import { compareText } from '../model/model.js'

/**
 * Foreign keys and check constraints from `pg_constraint`, in one round
 * trip. A foreign key comes as its parts (columns, referenced table and
 * columns, actions); a check as `pg_get_constraintdef`, PostgreSQL's own
 * rendering, without the `NOT VALID` it adds to one not yet validated (that
 * is `valid`). Constraints of partitions are their parent's; NOT NULL
 * constraints (PostgreSQL 18 keeps them here too) are the columns' nullability.
 */

interface ConstraintRow {
  schema: string
  table: string
  name: string
  type: 'f' | 'c'
  valid: boolean
  enforced: boolean
  definition: string
  columns: string[] | null
  ref_schema: string | null
  ref_table: string | null
  ref_columns: string[] | null
  on_delete: string | null
  on_update: string | null
}

export interface LiveConstraint {
  readonly schema: string
  readonly table: string
  readonly constraint: ConstraintModel
}

/** Which tables to read: every table in some namespaces, or tables by oid (temporary copies). */
export type ConstraintScope = { readonly namespaces: readonly string[] } | { readonly tableOids: readonly number[] }

const ACTIONS: Readonly<Record<string, ReferentialAction>> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' }

export async function readConstraints(db: Kysely<unknown>, scope: ConstraintScope): Promise<LiveConstraint[]> {
  const where =
    'namespaces' in scope
      ? sql`n.nspname = ANY(${[...scope.namespaces]}) AND t.relkind IN ('r', 'p') AND NOT t.relispartition`
      : sql`t.oid = ANY(${[...scope.tableOids]}::oid[])`
  const attributes = (table: string, keys: string) =>
    sql.raw(`(SELECT array_agg(a.attname::text ORDER BY key.position)
                FROM unnest(${keys}) WITH ORDINALITY AS key(attnum, position)
                JOIN pg_catalog.pg_attribute a ON a.attrelid = ${table} AND a.attnum = key.attnum)`)
  const { rows } = await sql<ConstraintRow>`
    SELECT n.nspname AS schema,
           t.relname AS table,
           k.conname AS name,
           k.contype::text AS type,
           k.convalidated AS valid,
           -- conenforced exists from PostgreSQL 18 on; read through jsonb so older servers answer too.
           COALESCE((to_jsonb(k) ->> 'conenforced')::boolean, true) AS enforced,
           pg_catalog.pg_get_constraintdef(k.oid) AS definition,
           ${attributes('k.conrelid', 'k.conkey')} AS columns,
           rn.nspname AS ref_schema,
           rt.relname AS ref_table,
           ${attributes('k.confrelid', 'k.confkey')} AS ref_columns,
           CASE WHEN k.contype = 'f' THEN k.confdeltype::text END AS on_delete,
           CASE WHEN k.contype = 'f' THEN k.confupdtype::text END AS on_update
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_class t ON t.oid = k.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
      LEFT JOIN pg_catalog.pg_class rt ON rt.oid = k.confrelid
      LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.relnamespace
     WHERE ${where}
       AND k.contype IN ('f', 'c')
     ORDER BY n.nspname, t.relname, k.conname`.execute(db)

  const constraints = rows.map((row): LiveConstraint => ({ schema: row.schema, table: row.table, constraint: constraintOf(row) }))
  // ORDER BY follows the server's collation; the model sorts by code point.
  return constraints.sort(
    (a, b) => compareText(a.schema, b.schema) || compareText(a.table, b.table) || compareText(a.constraint.name, b.constraint.name),
  )
}

function constraintOf(row: ConstraintRow): ConstraintModel {
  if (row.type === 'c') {
    const canonical = row.definition.replace(/ NOT VALID$/, '')
    const inner = /^CHECK \((.*)\)$/s.exec(canonical)?.[1] ?? canonical
    return { kind: 'check', name: row.name, sql: inner, canonical, valid: row.valid }
  }
  return {
    kind: 'foreign-key',
    name: row.name,
    columns: row.columns ?? [],
    references: { schema: row.ref_schema ?? '', name: row.ref_table ?? '', columns: row.ref_columns ?? [] },
    onDelete: ACTIONS[row.on_delete ?? 'a'] ?? 'no action',
    onUpdate: ACTIONS[row.on_update ?? 'a'] ?? 'no action',
    valid: row.valid,
    enforced: row.enforced,
  }
}
