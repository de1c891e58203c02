import type { Kysely } from 'kysely'
import { applyMigrations, StepFailedError } from '../apply/apply.js'
import type { Change } from '../diff/diff.js'
import { checkIntegrity, type IntegrityProblem } from '../migrations/integrity.js'
import type { GeneratedMigration } from '../migrations/migration.js'
import type { SchemaModel } from '../model/model.js'
import { compare } from '../pipeline.js'

/**
 * `schema:check`, the CI drift check: `generated-migrations/` replayed on a
 * fresh database must yield exactly `schema/`, and every file must be as it
 * was written. Replays with the production executor, so a migration that
 * would fail in production fails here first.
 */

export interface CheckResult {
  readonly integrity: readonly IntegrityProblem[]
  /** The migration that failed to replay, if one did; replay stops there. */
  readonly replayFailure: { readonly migration: string; readonly message: string } | null
  /** Every difference between the replayed database and `schema/`, extras included. */
  readonly drift: readonly Change[]
  readonly replayed: number
}

export function inSync(result: CheckResult): boolean {
  return result.integrity.length === 0 && result.replayFailure === null && result.drift.length === 0
}

/** `db` must be a fresh, empty database. */
export async function checkMigrations(request: {
  readonly db: Kysely<unknown>
  readonly declared: SchemaModel
  readonly migrations: readonly GeneratedMigration[]
}): Promise<CheckResult> {
  const integrity = checkIntegrity(request.migrations)
  let replayFailure: CheckResult['replayFailure'] = null
  let replayed = 0
  try {
    await applyMigrations({
      db: request.db,
      declared: request.declared,
      migrations: request.migrations,
      timeouts: { lockTimeout: '0', statementTimeout: '0' },
      lockRetries: 0,
      lockWaitMs: 0,
      signal: new AbortController().signal,
      cancel: async () => {},
      onEvent: (event) => {
        if (event.type === 'migration-committed') replayed++
      },
      assert: false,
      filesCheckedByCaller: true,
    })
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error
    replayFailure = { migration: error.migration, message: error.message }
  }
  const { changes } = await compare(request.db, request.declared)
  return { integrity, replayFailure, drift: changes, replayed }
}
