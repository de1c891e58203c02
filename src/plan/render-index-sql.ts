import { type RawBuilder, sql } from 'kysely'
import type { IndexDefinition, IndexKeyModel } from '../model/index-model.js'
import { render, type TableName } from './render-sql.js'

/**
 * DDL text for indexes and unique constraints, through the same compiler as
 * every other statement (`sql.id` for each identifier). Expressions and
 * predicates are the SQL `schema/` declares, used verbatim by design, as
 * defaults are.
 *
 * `schema:plan` writes these shapes and apply reads some of them back
 * (`apply/step-targets.ts`): change one only together with its reader.
 */

/** How an index is built: `CONCURRENTLY` on a table in use; plain inside the transaction that creates the table. */
export type BuildMode = 'concurrently' | 'in-transaction'

export interface IndexToBuild {
  readonly name: string
  readonly unique: boolean
  readonly definition: IndexDefinition
}

const table = (t: TableName) => sql.id(t.schema, t.name)
const index = (schema: string, name: string) => sql.id(schema, name)

/** `CREATE [UNIQUE] INDEX [CONCURRENTLY] IF NOT EXISTS "name" ON "s"."t" USING method (keys) [INCLUDE (...)] [WHERE (...)]`. */
export function createIndexSql(on: TableName, build: IndexToBuild, mode: BuildMode): string {
  return render(
    sql`CREATE ${build.unique ? sql`UNIQUE ` : sql``}INDEX ${mode === 'concurrently' ? sql`CONCURRENTLY ` : sql``}IF NOT EXISTS ${sql.id(build.name)} ON ${table(on)} ${indexBody(build.definition)}`,
  )
}

/**
 * The same index under another name on another table, without `IF NOT
 * EXISTS`: what the declared-index probe builds on an empty temporary copy.
 */
export function probeIndexSql(on: TableName, name: string, build: Omit<IndexToBuild, 'name'>): string {
  return render(sql`CREATE ${build.unique ? sql`UNIQUE ` : sql``}INDEX ${sql.id(name)} ON ${table(on)} ${indexBody(build.definition)}`)
}

function indexBody(definition: IndexDefinition): RawBuilder<unknown> {
  const parts = [sql`USING ${sql.raw(definition.method)} (${sql.join(definition.keys.map(keySql))})`]
  if (definition.include.length > 0) parts.push(sql`INCLUDE (${sql.join(definition.include.map((column) => sql.id(column)))})`)
  if (definition.where !== null) parts.push(sql`WHERE (${sql.raw(definition.where)})`)
  return sql.join(parts, sql` `)
}

function keySql(key: IndexKeyModel): RawBuilder<unknown> {
  const parts = [key.column !== null ? sql.id(key.column) : sql`(${sql.raw(key.expression ?? '')})`]
  if (key.opclass !== null) parts.push(sql.id(...key.opclass.split('.')))
  if (key.descending) parts.push(sql`DESC`)
  if (key.nullsFirst !== null) parts.push(key.nullsFirst ? sql`NULLS FIRST` : sql`NULLS LAST`)
  return sql.join(parts, sql` `)
}

export function dropIndexConcurrentlySql(schema: string, name: string): string {
  return render(sql`DROP INDEX CONCURRENTLY IF EXISTS ${index(schema, name)}`)
}

/** Inside a transaction, for an index on a table the same migration created. */
export function dropIndexSql(schema: string, name: string): string {
  return render(sql`DROP INDEX IF EXISTS ${index(schema, name)}`)
}

export function renameIndexSql(schema: string, from: string, to: string): string {
  return render(sql`ALTER INDEX ${index(schema, from)} RENAME TO ${sql.id(to)}`)
}

/** Turns a unique index into the constraint `name` (PostgreSQL renames the index to it). */
export function addUniqueUsingIndexSql(on: TableName, name: string, indexName: string): string {
  return render(sql`ALTER TABLE ${table(on)} ADD CONSTRAINT ${sql.id(name)} UNIQUE USING INDEX ${sql.id(indexName)}`)
}

/** Replaces constraint `name` by one on `indexName`, in one statement: the table is never without it. */
export function swapUniqueUsingIndexSql(on: TableName, name: string, indexName: string): string {
  return render(
    sql`ALTER TABLE ${table(on)} DROP CONSTRAINT ${sql.id(name)}, ADD CONSTRAINT ${sql.id(name)} UNIQUE USING INDEX ${sql.id(indexName)}`,
  )
}

export function dropConstraintSql(on: TableName, name: string): string {
  return render(sql`ALTER TABLE ${table(on)} DROP CONSTRAINT IF EXISTS ${sql.id(name)}`)
}
