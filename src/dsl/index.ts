/**
 * The schema definition language: what `schema/` imports.
 */
export { backfill, type BackfillDefinition, type BackfillSpec } from './backfill.js'
export { ColumnBuilder, type ColumnSpec, type ColumnTypes, type DeclaredDefault, type SqlExpression } from './column.js'
export {
  asc,
  desc,
  expression,
  index,
  IndexBuilder,
  IndexKey,
  type IndexKeySpec,
  type IndexMethod,
  type IndexSpec,
  unique,
  UniqueBuilder,
  type UniqueSpec,
} from './indexes.js'
export {
  check,
  type CheckSpec,
  foreignKey,
  ForeignKeyBuilder,
  type ForeignKeySpec,
  ForeignKeyStart,
  type ReferencedTable,
  type ReferenceOptions,
  type ReferentialAction,
} from './constraints.js'
export { type EnumDefinition, type EnumLabel, enumType } from './enums.js'
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
