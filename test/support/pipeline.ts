import type { Kysely } from 'kysely'
import { type ApplyEvent, type ApplyResult, applyMigrations } from '../../src/apply/apply.js'
import { loadMigrations } from '../../src/migrations/files.js'
import { generateMigration } from '../../src/migrations/generate.js'
import type { SchemaModel } from '../../src/model/model.js'
import { planAgainst } from '../../src/pipeline.js'
import { parseAllow } from '../../src/plan/allowance.js'
import type { Plan } from '../../src/plan/plan.js'

export const TEST_TIMEOUTS = { lockTimeout: '5s', statementTimeout: '0' }

/** Plans `declared` against `db` as `schema:plan` does; `allow` holds `--allow` entries (`drop-column`, `drop-column:t.a`). */
export async function planFor(db: Kysely<unknown>, declared: SchemaModel, allow: readonly string[] = []): Promise<Plan> {
  return (await planAgainst(db, { declared, timeouts: TEST_TIMEOUTS, allow: parseAllow(allow) })).plan
}

/**
 * What a team does with a plan: write it as the next migration in `dir`, then
 * apply everything pending there with the production executor and its
 * post-apply assertion (which rejects if the schema still differs).
 */
export async function writeAndApply(db: Kysely<unknown>, declared: SchemaModel, plan: Plan, dir: string): Promise<void> {
  await generateMigration({ plan, declared, files: await loadMigrations(dir), pending: [], dir, dryRun: false })
  await applyPending(db, declared, dir)
}

/** Applies every migration in `dir` that `db` has not applied yet, with the production executor and its post-apply assertion. */
export async function applyPending(
  db: Kysely<unknown>,
  declared: SchemaModel,
  dir: string,
  onEvent: (event: ApplyEvent) => void = () => {},
): Promise<ApplyResult> {
  return applyMigrations({
    db,
    declared,
    migrations: await loadMigrations(dir),
    timeouts: TEST_TIMEOUTS,
    lockRetries: 0,
    lockWaitMs: 5_000,
    signal: new AbortController().signal,
    cancel: async () => {},
    onEvent,
  })
}
