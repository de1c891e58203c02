import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type RawBuilder,
} from 'kysely'

/**
 * Compiles Kysely `sql` templates to text without a database: Kysely's
 * PostgreSQL compiler over a driver that never connects. The one path by
 * which identifiers (`sql.id`, `sql.ref`) become quoted SQL, for DDL and
 * for expressions the schema declares with `sql```.
 */
const compiler = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
})

export function compileOffline(statement: RawBuilder<unknown>): { readonly sql: string; readonly parameters: readonly unknown[] } {
  const compiled = statement.compile(compiler)
  return { sql: compiled.sql, parameters: compiled.parameters }
}
