import { labelList } from '../model/enum-model.js'
import { type ColumnDefault, type ColumnModel, type GeneratedColumn, type Partitioning, SEQUENCE_DEFAULT } from '../model/model.js'
import { stripOuterParentheses } from '../model/sql-text.js'
import { describeConstraintChange } from './constraints.js'
import type { Change } from './diff.js'
import { indexSummary } from './indexes.js'

/** One line for people: what differs, as `schema:verify` and the post-apply assertion report it. */
export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'create-schema':
      return `schema ${change.schema} is missing`
    case 'create-table':
      return `table is missing (${change.table.columns.length} columns declared)`
    case 'add-column':
      return `column is missing (declared ${columnSummary(change.column)})`
    case 'alter-column-type':
      return `type is ${change.from}, declared ${change.to}`
    case 'alter-column-nullability':
      return change.nullable ? 'is NOT NULL, declared nullable' : 'is nullable, declared NOT NULL'
    case 'alter-column-default':
      return `default is ${defaultText(change.from)}, declared ${defaultText(change.to)}`
    case 'alter-column-identity':
      return `identity is ${change.from ?? 'none'}, declared ${change.to ?? 'none'}`
    case 'alter-column-generated':
      return `is ${generation(change.from)}, declared ${generation(change.to)}`
    case 'alter-partitioning':
      return `is ${partitioning(change.from)}, declared ${partitioning(change.to)}`
    case 'alter-primary-key':
      return `primary key is (${change.from.join(', ')}), declared (${change.to.join(', ')})`
    case 'drop-column':
      return `column exists in the database but not in schema/ (${columnSummary(change.column)})`
    case 'drop-table':
      return 'table exists in the database but not in schema/'
    case 'create-index':
      return `index is missing (declared ${indexSummary(change.index)})`
    case 'replace-index':
      return change.reason === 'invalid'
        ? 'index is invalid: a concurrent build of it failed or was cancelled, so queries do not use it'
        : `index is ${indexSummary(change.from)}, declared ${indexSummary(change.to)}`
    case 'drop-index':
      return `index exists in the database but not in schema/ (${indexSummary(change.index)}${change.index.valid ? '' : ', invalid'})`
    case 'add-constraint':
    case 'validate-constraint':
    case 'replace-constraint':
    case 'drop-constraint':
      return describeConstraintChange(change)
    case 'create-enum':
      return `enum type is missing (declared ${labelList(change.enum.labels)})`
    case 'add-enum-value':
      return `enum label '${change.label.replaceAll("'", "''")}' is missing`
    case 'alter-enum-labels':
      return `enum labels are ${labelList(change.from)}, declared ${labelList(change.to)}`
    case 'drop-enum':
      return `enum type exists in the database but not in schema/ (${labelList(change.enum.labels)})`
  }
}

/**
 * Whether a difference means the database does not provide what `schema/`
 * declares. Objects the database has beyond the schema (extra tables and
 * columns, indexes, constraints) do not: applications keep working, and dropping them is
 * a separate, explicit decision (`--allow drop-column`).
 */
export function breaksSchema(change: Change): boolean {
  return change.kind !== 'drop-column' && change.kind !== 'drop-table' && change.kind !== 'drop-index' && change.kind !== 'drop-constraint' && change.kind !== 'drop-enum'
}

function defaultText(value: ColumnDefault | null): string {
  if (value === null) return 'none'
  return value.canonical === SEQUENCE_DEFAULT ? 'serial (a sequence the column owns)' : value.sql
}

/** `a plain column` or `generated always as (a * 2) stored`. */
export function generation(generated: GeneratedColumn | null): string {
  return generated === null ? 'a plain column' : `generated always as (${stripOuterParentheses(generated.sql)}) ${generated.kind}`
}

function partitioning(partitionBy: Partitioning | null): string {
  return partitionBy === null ? 'a plain table' : `partitioned by ${partitionBy.sql}`
}

function columnSummary(column: ColumnModel): string {
  const parts = [column.type, column.nullable ? 'null' : 'not null']
  if (column.default) parts.push(`default ${column.default.sql}`)
  if (column.generated) parts.push(generation(column.generated))
  if (column.identity) parts.push(`identity ${column.identity}`)
  return parts.join(', ')
}
