/**
 * Hazards: what can go wrong when a step runs, as data with stable codes.
 *
 * A step with a hazard stays out of the plan unless the user passes
 * `--allow <code>` for every hazard it carries. Codes are part of the public
 * contract: scripts match on them. Never rename one; add a new code instead.
 */

/** Each code with what it means, in one line. */
export const HAZARDS = {
  'column-type-change': 'changes a column type: may rewrite the table under ACCESS EXCLUSIVE, and fails if a value does not convert',
  // No longer raised: NOT NULL is planned as a validated check first (PostgreSQL 12+), which scans without blocking writes.
  // Kept so that scripts passing --allow set-not-null keep working.
  'set-not-null': 'adds NOT NULL: scans the whole table under ACCESS EXCLUSIVE, and fails if any row holds NULL',
  'drop-not-null': 'drops NOT NULL: the column starts accepting NULL, which code reading it may not expect',
  'default-change': 'changes a column default: rows inserted without the column get a different value',
  'not-null-without-default': 'adds a NOT NULL column without a default to an existing table: PostgreSQL rejects it wherever the table has rows',
  'volatile-default': 'adds a column whose default is volatile: PostgreSQL rewrites the whole table under ACCESS EXCLUSIVE',
  'drop-column': 'the database has a column that schema/ lacks: dropping it deletes its data',
  'drop-table': 'the database has a table that schema/ lacks: dropping it deletes its data',
  'identity-change': 'changes a column between identity, serial and plain: not planned automatically; change it by hand',
  'generated-change':
    'changes whether or how a column is generated: turning a column into a generated one (or changing its expression) drops and re-adds it, so it is never planned automatically; dropping the expression keeps the values',
  'stored-generated-column':
    'adds a stored generated column to a table that has rows: PostgreSQL computes it for every row, rewriting the table under ACCESS EXCLUSIVE',
  'partitioning-change':
    'the database and schema/ disagree on whether or how the table is partitioned: not planned automatically; repartitioning means moving every row',
  'primary-key-change': 'changes a primary key: not planned automatically; it rebuilds an index and may break foreign keys',
  'drop-index': 'the database has an index or unique constraint that schema/ lacks: queries using it slow down, and a unique one stops rejecting duplicates',
  'constraint-change':
    'changes a foreign key or check constraint: it is dropped and added again NOT VALID in one transaction, then validated; rows that break the new definition fail the validation, which leaves it NOT VALID',
  'drop-constraint': 'the database has a foreign key or check constraint that schema/ lacks: dropping it lets rows that break it in',
  'foreign-key-partitioned-scan':
    'adds a foreign key to a partitioned table that has rows: PostgreSQL before 18 cannot add it NOT VALID there, so it is added and validated in one statement, which blocks writes to both tables while it scans every partition: plan it for a quiet time',
  'enum-label-removed':
    'the database enum has labels schema/ lacks (removed or renamed): PostgreSQL cannot drop a label in place, so it is not planned automatically',
  'enum-label-reordered':
    'schema/ lists the enum labels in another order than the database: PostgreSQL cannot move a label, and the order is what comparisons and ORDER BY use; not planned automatically',
  'drop-enum': 'the database has an enum type that schema/ lacks and no declared column uses: dropping it breaks queries, functions and columns outside schema/ that name it',
} as const satisfies Record<string, string>

export type HazardCode = keyof typeof HAZARDS

export const HAZARD_CODES = Object.keys(HAZARDS) as HazardCode[]

export interface Hazard {
  readonly code: HazardCode
  /** This occurrence, in plain words: which table and column, and why. */
  readonly message: string
}

export function isHazardCode(code: string): code is HazardCode {
  return Object.hasOwn(HAZARDS, code)
}
