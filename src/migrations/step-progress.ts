import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import { HISTORY_SCHEMA } from './history.js'
import type { GeneratedMigration } from './migration.js'

/**
 * Progress of migrations that run step by step (they hold a statement
 * PostgreSQL refuses inside a transaction, such as `CREATE INDEX
 * CONCURRENTLY`): one row per completed step, until the whole migration is
 * recorded in the history table and its rows are removed. A re-run after an
 * interruption continues after the steps found here.
 *
 * The table is created only when such a migration first runs, next to the
 * history table.
 */

export const PROGRESS_TABLE = 'applied_steps'

const progressTable = () => sql.id(HISTORY_SCHEMA, PROGRESS_TABLE)

export async function ensureStepProgress(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ present: boolean }>`
    SELECT to_regclass(${`${HISTORY_SCHEMA}.${PROGRESS_TABLE}`}) IS NOT NULL AS present`.execute(db)
  if (rows[0]?.present) return
  await sql`CREATE TABLE IF NOT EXISTS ${progressTable()} (
    migration text NOT NULL,
    step integer NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, step)
  )`.execute(db)
}

/**
 * The steps of `migration` an earlier run completed, as indices into its
 * steps. Progress recorded for another version of the file stops everything.
 */
export async function readStepProgress(db: Kysely<unknown>, migration: GeneratedMigration): Promise<Set<number>> {
  const { rows } = await sql<{ step: number; checksum: string }>`
    SELECT step, checksum FROM ${progressTable()} WHERE migration = ${migration.name} ORDER BY step`.execute(db)
  const other = rows.find((row) => row.checksum !== migration.checksum)
  if (other) {
    throw new MigratorError(
      'migrations',
      `migration ${migration.name} was partly applied (up to step ${rows.at(-1)?.step}) from a different version of its file (recorded ${other.checksum}, file now ${migration.checksum})`,
      { hint: `restore ${migration.name}.ts as it was when it was partly applied, run schema:apply to finish it, and plan further changes as a new migration` },
    )
  }
  return new Set(rows.map((row) => row.step - 1))
}

/** Records steps (indices) of `migration` as completed. */
export async function recordStepsDone(db: Kysely<unknown>, migration: GeneratedMigration, steps: readonly number[]): Promise<void> {
  await sql`INSERT INTO ${progressTable()} (migration, step, checksum)
    SELECT ${migration.name}, s, ${migration.checksum} FROM unnest(${steps.map((i) => i + 1)}::integer[]) AS s
    ON CONFLICT DO NOTHING`.execute(db)
}

/** Called with the history row written, in the same transaction: the migration is then applied as a whole. */
export async function clearStepProgress(db: Kysely<unknown>, migration: GeneratedMigration): Promise<void> {
  await sql`DELETE FROM ${progressTable()} WHERE migration = ${migration.name}`.execute(db)
}
