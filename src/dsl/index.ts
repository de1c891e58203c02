/**
 * The schema definition language: what `schema/` imports.
 */
export { ColumnBuilder, type ColumnSpec, type ColumnTypes, type DeclaredDefault, type SqlExpression } from './column.js'
export { c, type IntervalValue, type JsonValue } from './types.js'
export {
  defineSchema,
  table,
  type DatabaseOf,
  type KyselyColumn,
  type SchemaDefinition,
  type TableDefinition,
  type TableOf,
} from './table.js'
