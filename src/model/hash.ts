import { createHash } from 'node:crypto'
import type { SchemaModel } from './model.js'

/**
 * A stable fingerprint of a declared schema: equal models give equal hashes,
 * whatever the key order or spelling in `schema/`. Recorded in each generated
 * migration so a reader can tell which schema it was planned from.
 */
export function schemaHash(model: SchemaModel): string {
  // Generation and partitioning join the text only where declared, so schemas without them keep their hashes.
  const canonical = model.tables.map((table) => ({
    schema: table.schema,
    name: table.name,
    primaryKey: table.primaryKey,
    ...(table.partitionBy ? { partitionBy: table.partitionBy.canonical } : {}),
    columns: table.columns.map((column) => [
      column.name,
      column.type,
      column.nullable,
      column.default?.canonical ?? null,
      column.identity,
      ...(column.generated ? [column.generated.kind, column.generated.canonical] : []),
    ]),
    // Only when there are some: schemas without indexes keep the hash they always had.
    ...(table.indexes.length === 0
      ? {}
      : { indexes: table.indexes.map((index) => [index.name, index.unique, index.constraint, index.definition]) }),
    // Likewise foreign keys and checks, as declared (without what a probe or the catalog adds).
    ...(table.constraints.length === 0
      ? {}
      : { constraints: table.constraints.map((k) => (k.kind === 'check' ? [k.name, k.kind, k.sql] : [k.name, k.kind, k.columns, k.references, k.onDelete, k.onUpdate])) }),
  }))
  // Enums likewise: a schema without them keeps its hash.
  const enums = model.enums.map((e) => [e.schema, e.name, e.labels])
  const text = JSON.stringify(enums.length === 0 ? canonical : { tables: canonical, enums })
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}
