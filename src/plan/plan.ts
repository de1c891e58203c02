import { generation } from '../diff/describe.js'
import type { Change, TableRef } from '../diff/diff.js'
import { type ConstraintChange, isConstraintChange } from '../diff/constraints.js'
import { type EnumChange, isEnumChange } from '../diff/enums.js'
import { type IndexChange, isIndexChange } from '../diff/indexes.js'
import type { DatabaseFacts, FactsQuestion } from '../introspect/probe.js'
import { functionsCalledIn } from '../introspect/probe.js'
import { displayTableName, SEQUENCE_DEFAULT, tableKey } from '../model/model.js'
import { type AllowanceUse, type AllowEntry, entriesAllowing } from './allowance.js'
import { type Hazard, type HazardCode, HAZARDS } from './hazards.js'
import { constraintDrafts, setNotNullDrafts } from './constraints.js'
import { defaultToKeep, enumDrafts } from './enums.js'
import { indexDrafts } from './indexes.js'
import * as render from './render-sql.js'

/**
 * The plan: each change becomes a guarded step that carries everything needed
 * to run it safely (SQL, the lock it takes, its timeouts, its hazards), or is
 * held back with the reason.
 */

/**
 * The strongest table lock a step takes. ACCESS EXCLUSIVE blocks even readers
 * while held or queued; SHARE ROW EXCLUSIVE (adding a foreign key, on both
 * tables) blocks writes but not reads; SHARE UPDATE EXCLUSIVE (concurrent
 * index builds and drops, index renames, validating a constraint) and ROW
 * SHARE (what validating a foreign key takes on the table it references)
 * let reads and writes go on.
 */
export type LockLevel = 'none' | 'ROW SHARE' | 'SHARE UPDATE EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE'

export interface Timeouts {
  /** PostgreSQL interval text, e.g. `5s`; how long a step may wait for its lock. */
  readonly lockTimeout: string
  /** PostgreSQL interval text; `0` means no limit. */
  readonly statementTimeout: string
}

export interface Step {
  readonly change: Change
  /** Exactly one statement. */
  readonly sql: string
  /** What it acts on, as people name it: `call_log`, `call_log.started_at`. */
  readonly subject: string
  readonly lock: LockLevel
  readonly timeouts: Timeouts
  readonly hazards: readonly Hazard[]
  /**
   * `false` for a statement PostgreSQL refuses inside a transaction block
   * (`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`): apply runs it
   * on its own, with session-level timeouts, and records it once it is done.
   */
  readonly transaction: boolean
  /**
   * Runs in a transaction with no other step, committed before the next one
   * starts (`VALIDATE CONSTRAINT`): its scan then holds only its own weak
   * lock, never the stronger one an earlier step of the migration took.
   */
  readonly ownTransaction: boolean
  /** The lock it takes on a second table: a foreign key's on the table it references. */
  readonly alsoLocks?: { readonly table: string; readonly lock: LockLevel }
  /** What the plan advises without holding the step back (an index a foreign key lacks). */
  readonly warnings?: readonly string[]
}

export interface HeldBack {
  readonly change: Change
  readonly subject: string
  /** The statement that would run, or `null` when the change is never planned automatically. */
  readonly sql: string | null
  readonly hazards: readonly Hazard[]
  /** Hazard codes that `--allow` must name for the step to be planned (empty when it can't be). */
  readonly needsAllow: readonly HazardCode[]
}

export interface Plan {
  readonly steps: readonly Step[]
  readonly heldBack: readonly HeldBack[]
  /** Each `--allow` entry with the number of steps it let into the plan. */
  readonly allowed: readonly AllowanceUse[]
}

export interface PlanOptions {
  readonly timeouts: Timeouts
  /** What the user allows (`--allow`). */
  readonly allow: readonly AllowEntry[]
  readonly facts: DatabaseFacts
}

/** What the plan needs to know about the database beyond its schema. */
export function factsNeeded(changes: readonly Change[]): FactsQuestion {
  const tables = new Map<string, TableRef>()
  const functions = new Set<string>()
  for (const change of changes) {
    if (change.kind !== 'add-column') continue
    const { column } = change
    const called = functionsCalledIn(column.default?.sql ?? '')
    // Whether the table has rows decides both hazards below; an empty table is never at risk.
    const withoutDefault = !column.nullable && column.default === null && column.identity === null && column.generated === null
    if (withoutDefault || called.length > 0 || column.identity !== null || column.generated !== null) {
      tables.set(tableKey(change.table), change.table)
    }
    for (const fn of called) functions.add(fn)
  }
  return { tables: [...tables.values()], functions: [...functions] }
}

export function planChanges(changes: readonly Change[], options: PlanOptions): Plan {
  const steps: Step[] = []
  const heldBack: HeldBack[] = []
  const unlocked = new Map(options.allow.map((entry) => [entry, 0]))
  const named = new Set<AllowEntry>()
  for (const change of changes) {
    const subject = subjectOf(change)
    // Most changes take one statement; an index built concurrently and swapped in takes several.
    const drafts = isIndexChange(change)
      ? indexDrafts(change, subject)
      : isConstraintChange(change)
        ? constraintDrafts(change, subject)
        : isEnumChange(change)
          ? enumDrafts(change, subject)
          : change.kind === 'alter-column-nullability' && !change.nullable
            ? setNotNullDrafts(change.table, change.column)
            : [draftStep(change, options.facts)]
    const hazards = drafts.flatMap((draft) => draft.hazards)
    const statements = drafts.map((draft) => draft.sql)
    const codes = [...new Set(hazards.map((h) => h.code))]
    for (const entry of options.allow) if (entry.subject === subject && codes.includes(entry.code)) named.add(entry)
    if (statements.some((sql) => sql === null)) {
      heldBack.push({ change, subject, sql: null, hazards, needsAllow: [] })
      continue
    }
    const needsAllow = codes.filter((code) => entriesAllowing(options.allow, code, subject).length === 0)
    if (needsAllow.length > 0) {
      heldBack.push({ change, subject, sql: statements.join(';\n'), hazards, needsAllow })
      continue
    }
    for (const entry of new Set(codes.flatMap((code) => entriesAllowing(options.allow, code, subject)))) {
      unlocked.set(entry, (unlocked.get(entry) ?? 0) + 1)
    }
    for (const draft of drafts) {
      steps.push({
        change,
        subject,
        sql: draft.sql as string,
        lock: draft.lock,
        timeouts: options.timeouts,
        hazards: draft.hazards,
        transaction: draft.transaction ?? true,
        ownTransaction: draft.ownTransaction ?? false,
        ...(draft.alsoLocks ? { alsoLocks: draft.alsoLocks } : {}),
        ...(draft.warnings && draft.warnings.length > 0 ? { warnings: draft.warnings } : {}),
      })
    }
  }
  const allowed = [...unlocked].map(([entry, count]) => ({
    allow: entry.text,
    code: entry.code,
    subject: entry.subject,
    steps: count,
    unmatched: entry.subject !== null && !named.has(entry),
  }))
  return { steps, heldBack, allowed }
}

export interface Draft {
  readonly sql: string | null
  readonly lock: LockLevel
  readonly hazards: Hazard[]
  /** `false`: cannot run inside a transaction block (see `Step.transaction`). */
  readonly transaction?: boolean
  /** `true`: in a transaction of its own (see `Step.ownTransaction`). */
  readonly ownTransaction?: boolean
  readonly alsoLocks?: Step['alsoLocks']
  readonly warnings?: readonly string[]
}

function draftStep(change: Exclude<Change, IndexChange | ConstraintChange | EnumChange>, facts: DatabaseFacts): Draft {
  const subject = subjectOf(change)
  const hazard = (code: HazardCode, detail = ''): Hazard => ({
    code,
    message: `${subject}: ${HAZARDS[code]}${detail}`,
  })
  switch (change.kind) {
    case 'create-schema':
      return { sql: render.createSchemaSql(change.schema), lock: 'none', hazards: [] }
    case 'create-table':
      return { sql: render.createTableSql(change.table), lock: 'none', hazards: [] }
    case 'add-column': {
      const { column } = change
      const hazards: Hazard[] = []
      const populated = facts.populatedTables.has(tableKey(change.table))
      // Held back even when this table is empty here: the database the migration is applied to
      // (production) may have rows, and there PostgreSQL rejects it (23502).
      if (!column.nullable && column.default === null && column.identity === null && column.generated === null) {
        hazards.push(
          hazard(
            'not-null-without-default',
            `${populated ? ' (this table has rows)' : ' (this table is empty here, but where it has rows the step fails)'}; declare a default, or add it nullable and backfill`,
          ),
        )
      }
      // A volatile default, serial or identity column fills every existing row: a full rewrite.
      const volatile = functionsCalledIn(column.default?.sql ?? '').filter((fn) => facts.volatileFunctions.has(fn))
      if (populated && (volatile.length > 0 || column.identity !== null)) {
        hazards.push(hazard('volatile-default', volatile.length > 0 ? ` (${volatile.join(', ')})` : ' (identity)'))
      }
      if (populated && column.generated?.kind === 'stored') hazards.push(hazard('stored-generated-column'))
      return { sql: render.addColumnSql(change.table, column), lock: 'ACCESS EXCLUSIVE', hazards }
    }
    case 'alter-column-type':
      return {
        sql: render.alterColumnTypeSql(change.table, change.column, change.to, defaultToKeep(change)),
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('column-type-change', ` (${change.from} → ${change.to})`)],
      }
    case 'alter-column-nullability':
      return {
        sql: render.alterColumnNullabilitySql(change.table, change.column, change.nullable),
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard(change.nullable ? 'drop-not-null' : 'set-not-null')],
      }
    case 'alter-column-default':
      // Making a column serial means creating a sequence the column owns: by hand, as for identity.
      if (change.to?.canonical === SEQUENCE_DEFAULT) {
        return {
          sql: null,
          lock: 'ACCESS EXCLUSIVE',
          hazards: [hazard('identity-change', ` (${change.from?.sql ?? 'no default'} → serial)`)],
        }
      }
      return {
        sql: render.alterColumnDefaultSql(change.table, change.column, change.to?.sql ?? null),
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('default-change', ` (${change.from?.sql ?? 'none'} → ${change.to?.sql ?? 'none'})`)],
      }
    case 'alter-column-generated': {
      const detail = ` (${generation(change.from)} → ${generation(change.to)})`
      // Dropping the expression keeps the values and makes the column writable (PostgreSQL 13+);
      // anything else means dropping and re-adding the column: by hand.
      const dropsExpression = change.to === null && change.from?.kind === 'stored'
      return {
        sql: dropsExpression ? render.dropExpressionSql(change.table, change.column) : null,
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('generated-change', detail)],
      }
    }
    case 'alter-partitioning':
      return {
        sql: null,
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('partitioning-change', ` (${change.from?.sql ?? 'plain'} → ${change.to?.sql ?? 'plain'})`)],
      }
    case 'alter-column-identity':
      return {
        sql: null,
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('identity-change', ` (${change.from ?? 'none'} → ${change.to ?? 'none'})`)],
      }
    case 'alter-primary-key':
      return {
        sql: null,
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('primary-key-change', ` (${listOrNone(change.from)} → ${listOrNone(change.to)})`)],
      }
    case 'drop-column':
      return {
        sql: render.dropColumnSql(change.table, change.column.name),
        lock: 'ACCESS EXCLUSIVE',
        hazards: [hazard('drop-column')],
      }
    case 'drop-table':
      return { sql: render.dropTableSql(change.table), lock: 'ACCESS EXCLUSIVE', hazards: [hazard('drop-table')] }
  }
}

/** `call_log`, `call_log.started_at`, `audit.events`: what a change acts on. */
export function subjectOf(change: Change): string {
  switch (change.kind) {
    case 'create-schema':
      return `schema ${change.schema}`
    case 'create-table':
    case 'drop-table':
    case 'alter-primary-key':
    case 'alter-partitioning':
      return displayTableName(change.table)
    case 'create-enum':
    case 'add-enum-value':
    case 'alter-enum-labels':
    case 'drop-enum':
      return displayTableName(change.enum)
    case 'add-column':
    case 'drop-column':
      return `${displayTableName(change.table)}.${change.column.name}`
    case 'create-index':
    case 'drop-index':
      return `${displayTableName(change.table)}.${change.index.name}`
    case 'replace-index':
    case 'replace-constraint':
      return `${displayTableName(change.table)}.${change.to.name}`
    case 'add-constraint':
    case 'validate-constraint':
    case 'drop-constraint':
      return `${displayTableName(change.table)}.${change.constraint.name}`
    case 'alter-column-type':
    case 'alter-column-nullability':
    case 'alter-column-default':
    case 'alter-column-identity':
    case 'alter-column-generated':
      return `${displayTableName(change.table)}.${change.column}`
  }
}

function listOrNone(columns: readonly string[]): string {
  return columns.length === 0 ? 'none' : `(${columns.join(', ')})`
}
