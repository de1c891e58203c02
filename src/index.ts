/**
 * What an application imports: the schema definition language for its
 * `schema` module, and `defineConfig` for `schema.config.ts`.
 *
 * @example
 * ```ts
 * import { c, table, defineSchema, type DatabaseOf } from 'kysely-schema-migrate'
 *
 * export const schema = defineSchema(table('person', { id: c.bigserial().primaryKey(), name: c.text().notNull() }))
 * export type Database = DatabaseOf<typeof schema>   // new Kysely<Database>(...)
 * ```
 */
export * from './dsl/index.js'
export { defineConfig, type SchemaConfig } from './config/define-config.js'
