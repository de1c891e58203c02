import { createHash } from 'node:crypto'
import type { ChangeKind } from '../diff/diff.js'
import type { HazardCode } from '../plan/hazards.js'
import type { LockLevel } from '../plan/plan.js'

/**
 * A generated migration, as `schema:plan` writes it to
 * `generated-migrations/` and `schema:apply` reads it back.
 */

/** One step as a migration file records it. */
export interface MigrationStep {
  readonly kind: ChangeKind
  readonly subject: string
  readonly lock: LockLevel
  readonly hazards: readonly HazardCode[]
  /** `false`: PostgreSQL refuses it inside a transaction block (`CONCURRENTLY`); absent means true. */
  readonly transaction?: boolean
  /**
   * `true`: runs in a transaction with no other step (`VALIDATE CONSTRAINT`,
   * so its scan never holds the lock an earlier step took); absent means false.
   */
  readonly ownTransaction?: boolean
  /** Exactly one statement. */
  readonly sql: string
}

/**
 * Whether a migration runs in one transaction (every step can), or step by
 * step with its progress recorded (`export const config = { transaction: false }`).
 */
export function runsInTransaction(steps: readonly Pick<MigrationStep, 'transaction' | 'ownTransaction'>[]): boolean {
  return steps.every((step) => step.transaction !== false && step.ownTransaction !== true)
}

/** A migration as another one refers to it. */
export interface MigrationLink {
  readonly name: string
  readonly checksum: string
}

export interface GeneratedMigration {
  /** File name without `.ts`, e.g. `0002_call_log_add_started_at`; the order key. */
  readonly name: string
  readonly path: string
  /** `schemaHash` of the declared schema it was planned from. */
  readonly schemaHash: string
  readonly steps: readonly MigrationStep[]
  /** Statements that undo it, when every step can be undone; `null` otherwise. */
  readonly downSteps: readonly string[] | null
  /** Fingerprint of what runs: the steps' SQL in order, computed from the file now. Recorded when applied. */
  readonly checksum: string
  /** The checksum the file recorded when it was written; `null` if it records none. */
  readonly writtenChecksum: string | null
  /** The migration it was written after, as the file records it; `undefined` if it records nothing. */
  readonly follows: MigrationLink | null | undefined
}

/**
 * The checksum covers the statements and their order, not the file's bytes:
 * reformatting a file or editing a comment does not change what runs, while
 * any edit to a statement does. A step's `ownTransaction` counts too (taking
 * it out would validate a constraint under the lock that added it); it joins
 * the text only where set, so the checksums of files without it are unchanged.
 */
export function checksumOf(steps: readonly Pick<MigrationStep, 'sql' | 'ownTransaction'>[]): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(steps.map((step) => (step.ownTransaction === true ? { sql: step.sql, ownTransaction: true } : step.sql))))
    .digest('hex')}`
}
