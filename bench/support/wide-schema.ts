/**
 * The 1,000-table fixture: the DDL that builds it, and the schema module that
 * declares exactly the same tables with the project's DSL (as TypeScript for
 * the tsx path and as JavaScript for the compiled path). Twenty columns a
 * table: a bigserial key and nineteen of mixed types, nullability and
 * defaults, so introspection and normalization do real work.
 */

const COLUMNS: readonly { readonly sql: string; readonly dsl: string }[] = [
  { sql: 'integer NOT NULL DEFAULT 0', dsl: 'c.integer().notNull().default(0)' },
  { sql: 'bigint', dsl: 'c.bigint()' },
  { sql: "text NOT NULL DEFAULT 'new'", dsl: "c.text().notNull().default('new')" },
  { sql: 'varchar(64)', dsl: 'c.varchar(64)' },
  { sql: 'boolean NOT NULL DEFAULT false', dsl: 'c.boolean().notNull().default(false)' },
  { sql: 'timestamptz NOT NULL DEFAULT now()', dsl: "c.timestamptz().notNull().defaultSql('now()')" },
  { sql: 'numeric(12,2)', dsl: 'c.numeric(12, 2)' },
  { sql: 'uuid', dsl: 'c.uuid()' },
  { sql: "jsonb DEFAULT '{}'", dsl: 'c.jsonb().default({})' },
  { sql: 'date', dsl: 'c.date()' },
  { sql: 'double precision', dsl: 'c.doublePrecision()' },
  { sql: 'smallint', dsl: 'c.smallint()' },
  { sql: 'timestamp(3)', dsl: 'c.timestamp(3)' },
  { sql: 'char(2)', dsl: 'c.char(2)' },
  { sql: 'bytea', dsl: 'c.bytea()' },
  { sql: 'text[]', dsl: 'c.array(c.text())' },
  { sql: 'interval', dsl: 'c.interval()' },
  { sql: 'real', dsl: 'c.real()' },
  { sql: 'inet', dsl: 'c.inet()' },
]

const tableName = (i: number) => `t_${String(i).padStart(4, '0')}`

export const CALL_LOG_DDL = `CREATE TABLE call_log (
  id bigserial PRIMARY KEY,
  call_sid text NOT NULL UNIQUE,
  from_number text,
  to_number text,
  status text NOT NULL DEFAULT 'queued',
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  ended_at timestamptz,
  duration_sec integer,
  summary_status text
);`

/** The indexes schema/call-log.ts declares besides the unique call_sid. */
export const CALL_LOG_INDEX_DDL = ['CREATE INDEX call_log_created_at_idx ON call_log (created_at);']

/** call_log as it was before migration 109, with `rows` rows. */
export function pre109Sql(rows: number): string {
  return `CREATE TABLE call_log (
    id bigserial PRIMARY KEY, call_sid text NOT NULL, from_number text, to_number text,
    status text NOT NULL DEFAULT 'queued', created_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO call_log (call_sid, from_number, to_number)
    SELECT 'CA' || g, '+1555' || g, '+1666' || g FROM generate_series(1, ${rows}) g;`
}

export function wideDdl(tables: number): string[] {
  return Array.from({ length: tables }, (_, i) => {
    const columns = COLUMNS.map((col, j) => `c${String(j + 1).padStart(2, '0')} ${col.sql}`)
    return `CREATE TABLE ${tableName(i + 1)} (id bigserial PRIMARY KEY, ${columns.join(', ')});`
  })
}

/** A schema module exporting `schema`: call_log plus the wide tables. */
export function wideSchemaModule(tables: number, imports: { dsl: string; callLog: string }): string {
  const declarations = Array.from({ length: tables }, (_, i) => {
    const columns = COLUMNS.map((col, j) => `c${String(j + 1).padStart(2, '0')}: ${col.dsl}`)
    return `  table('${tableName(i + 1)}', { id: c.bigserial().primaryKey(), ${columns.join(', ')} }),`
  })
  return `import { c, defineSchema, table } from '${imports.dsl}'
import { callLog } from '${imports.callLog}'

export const schema = defineSchema(
  callLog,
${declarations.join('\n')}
)
`
}
