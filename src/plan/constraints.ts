import type { ConstraintChange } from '../diff/constraints.js'
import type { TableRef } from '../diff/diff.js'
import { type ConstraintModel, notNullCheckName } from '../model/constraint-model.js'
import { displayTableName } from '../model/model.js'
import { type Hazard, type HazardCode, HAZARDS } from './hazards.js'
import type { Draft, LockLevel } from './plan.js'
import { addCheckSql, addConstraintSql, notNullExpression, validateConstraintSql } from './render-constraint-sql.js'
import { dropConstraintSql } from './render-index-sql.js'
import { alterColumnNullabilitySql } from './render-sql.js'

/**
 * The steps of a foreign key or check constraint change, and of making an
 * existing column NOT NULL.
 *
 * On a table in use, nothing holds a lock that blocks writes through a scan:
 * - a constraint is added `NOT VALID` (ACCESS EXCLUSIVE for a check, SHARE
 *   ROW EXCLUSIVE on both tables for a foreign key, held for milliseconds:
 *   from then on new rows are checked), then validated in a transaction of
 *   its own, which scans the existing rows under SHARE UPDATE EXCLUSIVE
 *   (reads and writes go on). Never in the same transaction: that would hold
 *   the first lock through the scan.
 * - NOT NULL is `CHECK (column IS NOT NULL) NOT VALID`, validated the same
 *   way, then `SET NOT NULL`, which PostgreSQL 12 and later prove from the
 *   valid check without scanning, then the check is dropped.
 * On a table the same plan creates, the constraint is added valid at once,
 * in the migration's transaction: the table is empty.
 *
 * A foreign key on an existing partitioned table is the exception:
 * PostgreSQL before 18 refuses `NOT VALID` there, and a migration planned on
 * 18 (PGlite included) may be applied to an older server. It is added valid
 * in one statement, which blocks writes to both tables while it scans every
 * partition: the hazard `foreign-key-partitioned-scan`, held back unless allowed.
 */
export function constraintDrafts(change: ConstraintChange, subject: string): Draft[] {
  const hazard = (code: HazardCode): Hazard => ({ code, message: `${subject}: ${HAZARDS[code]}` })
  const { table } = change
  switch (change.kind) {
    case 'add-constraint': {
      const warnings = change.missingIndex ? [missingIndexWarning(table, change.constraint, change.missingIndex)] : []
      if (change.newTable) {
        const { constraint } = change
        return [{ sql: addConstraintSql(table, constraint, { notValid: false }), lock: 'none', hazards: [], alsoLocks: referencedLock(constraint, 'SHARE ROW EXCLUSIVE'), warnings }]
      }
      if (change.partitioned && change.constraint.kind === 'foreign-key') return [{ ...addValidAtOnce(table, change.constraint, hazard), warnings }]
      const [add, validate] = addThenValidate(table, change.constraint)
      return [{ ...add, warnings }, validate]
    }
    case 'validate-constraint':
      return [validateDraft(table, change.constraint)]
    case 'replace-constraint':
      // Dropped and added in one transaction, so the table is never without it; validated after.
      return [
        { sql: dropConstraintSql(table, change.from.name), lock: 'ACCESS EXCLUSIVE', hazards: [hazard('constraint-change')], alsoLocks: referencedLock(change.from, 'ACCESS EXCLUSIVE') },
        ...(change.partitioned && change.to.kind === 'foreign-key' ? [addValidAtOnce(table, change.to, hazard)] : addThenValidate(table, change.to)),
      ]
    case 'drop-constraint':
      return [{ sql: dropConstraintSql(table, change.constraint.name), lock: 'ACCESS EXCLUSIVE', hazards: [hazard('drop-constraint')], alsoLocks: referencedLock(change.constraint, 'ACCESS EXCLUSIVE') }]
  }
}

/** `SET NOT NULL` on an existing column without holding ACCESS EXCLUSIVE through a scan of the table. */
export function setNotNullDrafts(table: TableRef, column: string): Draft[] {
  const check = { name: notNullCheckName(table.name, column), sql: notNullExpression(column) }
  return [
    { sql: addCheckSql(table, check, { notValid: true }), lock: 'ACCESS EXCLUSIVE', hazards: [] },
    { sql: validateConstraintSql(table, check.name), lock: 'SHARE UPDATE EXCLUSIVE', hazards: [], ownTransaction: true },
    { sql: alterColumnNullabilitySql(table, column, false), lock: 'ACCESS EXCLUSIVE', hazards: [] },
    { sql: dropConstraintSql(table, check.name), lock: 'ACCESS EXCLUSIVE', hazards: [] },
  ]
}

function addThenValidate(table: TableRef, constraint: ConstraintModel): [Draft, Draft] {
  const lock: LockLevel = constraint.kind === 'foreign-key' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE'
  return [
    { sql: addConstraintSql(table, constraint, { notValid: true }), lock, hazards: [], alsoLocks: referencedLock(constraint, 'SHARE ROW EXCLUSIVE') },
    validateDraft(table, constraint),
  ]
}

/** A foreign key on an existing partitioned table: added and validated in one statement (see above). */
function addValidAtOnce(table: TableRef, constraint: ConstraintModel, hazard: (code: HazardCode) => Hazard): Draft {
  return {
    sql: addConstraintSql(table, constraint, { notValid: false }),
    lock: 'SHARE ROW EXCLUSIVE',
    hazards: [hazard('foreign-key-partitioned-scan')],
    alsoLocks: referencedLock(constraint, 'SHARE ROW EXCLUSIVE'),
  }
}

function validateDraft(table: TableRef, constraint: ConstraintModel): Draft {
  return {
    sql: validateConstraintSql(table, constraint.name),
    lock: 'SHARE UPDATE EXCLUSIVE',
    hazards: [],
    ownTransaction: true,
    alsoLocks: referencedLock(constraint, 'ROW SHARE'),
  }
}

/** A foreign key also locks the table it references (unless it references its own table). */
function referencedLock(constraint: ConstraintModel, lock: LockLevel): Draft['alsoLocks'] {
  return constraint.kind === 'foreign-key' ? { table: displayTableName(constraint.references), lock } : undefined
}

function missingIndexWarning(table: TableRef, constraint: ConstraintModel, columns: readonly string[]): string {
  const referenced = constraint.kind === 'foreign-key' ? displayTableName(constraint.references) : 'the referenced table'
  const declare = `index(${columns.map((c) => `'${c.replaceAll("'", "\\'")}'`).join(', ')})`
  return `no index on ${displayTableName(table)} leads with (${columns.join(', ')}), so each delete or key update on ${referenced} scans ${displayTableName(table)} for referencing rows: declare ${declare} in its indexes`
}
