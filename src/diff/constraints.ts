import { type ConstraintModel, constraintSummary, notNullCheckName } from '../model/constraint-model.js'
import type { TableModel } from '../model/model.js'
import type { TableRef } from './diff.js'

/**
 * Foreign key and check constraint changes. Constraints are matched by name
 * (foreign key names are derived as PostgreSQL derives them) and compared by
 * structure (foreign keys) or by PostgreSQL's spelling (checks). One that
 * exists as declared but was never validated (a validation that failed, or
 * one added `NOT VALID` by hand) only needs validating.
 */

export type ConstraintChange =
  | {
      readonly kind: 'add-constraint'
      readonly table: TableRef
      readonly constraint: ConstraintModel
      /** The table is created by the same plan: it is empty, so the constraint is added valid at once. */
      readonly newTable: boolean
      /** A foreign key whose columns lead no declared index (nor the primary key): the index to add, for the warning. */
      readonly missingIndex: readonly string[] | null
      /** The table is partitioned: PostgreSQL before 18 cannot add a foreign key to it `NOT VALID`. */
      readonly partitioned: boolean
    }
  | { readonly kind: 'validate-constraint'; readonly table: TableRef; readonly constraint: ConstraintModel }
  | {
      readonly kind: 'replace-constraint'
      readonly table: TableRef
      readonly from: ConstraintModel
      readonly to: ConstraintModel
      /** As for `add-constraint`. */
      readonly partitioned: boolean
    }
  | { readonly kind: 'drop-constraint'; readonly table: TableRef; readonly constraint: ConstraintModel }

export const CONSTRAINT_CHANGE_KINDS = ['add-constraint', 'validate-constraint', 'replace-constraint', 'drop-constraint'] as const

export function isConstraintChange(change: { readonly kind: string }): change is ConstraintChange {
  return (CONSTRAINT_CHANGE_KINDS as readonly string[]).includes(change.kind)
}

/** What turns `live`'s constraints into `declared`'s on one table (`live` is `null` for a table the plan creates). */
export function diffConstraints(
  table: TableRef,
  live: TableModel | null,
  declared: TableModel,
): { readonly changes: ConstraintChange[]; readonly drops: ConstraintChange[] } {
  const liveByName = new Map((live?.constraints ?? []).map((constraint) => [constraint.name, constraint]))
  const declaredNames = new Set(declared.constraints.map((constraint) => constraint.name))
  const changes: ConstraintChange[] = []
  const partitioned = declared.partitionBy !== null
  for (const constraint of declared.constraints) {
    const current = liveByName.get(constraint.name)
    if (!current) {
      const missingIndex = constraint.kind === 'foreign-key' && !leadsAnIndex(declared, constraint.columns) ? constraint.columns : null
      changes.push({ kind: 'add-constraint', table, constraint, newTable: live === null, missingIndex, partitioned })
    } else if (!sameConstraint(current, constraint)) changes.push({ kind: 'replace-constraint', table, from: current, to: constraint, partitioned })
    else if (!current.valid) changes.push({ kind: 'validate-constraint', table, constraint })
  }
  // The temporary check of a NOT NULL under way (a validation that failed on nulls) belongs to that change, not to schema/.
  const extra = (live?.constraints ?? []).filter((constraint) => !declaredNames.has(constraint.name))
  const temporary = extra.length === 0 ? new Set<string>() : new Set(declared.columns.map((column) => notNullCheckName(table.name, column.name)))
  const drops: ConstraintChange[] = extra
    .filter((constraint) => !temporary.has(constraint.name))
    .map((constraint) => ({ kind: 'drop-constraint', table, constraint }))
  return { changes, drops }
}

function sameConstraint(live: ConstraintModel, declared: ConstraintModel): boolean {
  if (live.kind === 'check' && declared.kind === 'check') {
    // A declared check not probed (no database to ask) is compared by name alone.
    return declared.canonical === null || live.canonical === declared.canonical
  }
  if (live.kind === 'foreign-key' && declared.kind === 'foreign-key') {
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])
    return (
      same(live.columns, declared.columns) &&
      live.references.schema === declared.references.schema &&
      live.references.name === declared.references.name &&
      same(live.references.columns, declared.references.columns) &&
      live.onDelete === declared.onDelete &&
      live.onUpdate === declared.onUpdate &&
      live.enforced === declared.enforced
    )
  }
  return false
}

/**
 * Whether `columns` are the leading columns (in any order) of the primary key
 * or of a declared btree index on plain columns without a predicate: what
 * lets a delete or key update on the referenced table find referencing rows
 * without scanning this table.
 */
function leadsAnIndex(table: TableModel, columns: readonly string[]): boolean {
  const leads = (keys: readonly (string | null)[]) => {
    const head = new Set(keys.slice(0, columns.length))
    return columns.every((column) => head.has(column))
  }
  if (leads(table.primaryKey)) return true
  return table.indexes.some(
    (index) => index.definition !== null && index.definition.method === 'btree' && index.definition.where === null && leads(index.definition.keys.map((key) => key.column)),
  )
}

/** One line for people: what differs about a constraint. */
export function describeConstraintChange(change: ConstraintChange): string {
  switch (change.kind) {
    case 'add-constraint':
      return `constraint is missing (declared ${constraintSummary(change.constraint)})`
    case 'validate-constraint':
      return `constraint is NOT VALID: rows written before it was added have not been checked (${constraintSummary(change.constraint)})`
    case 'replace-constraint':
      return `constraint is ${constraintSummary(change.from)}, declared ${constraintSummary(change.to)}`
    case 'drop-constraint':
      return `constraint exists in the database but not in schema/ (${constraintSummary(change.constraint)}${change.constraint.valid ? '' : ', NOT VALID'})`
  }
}
