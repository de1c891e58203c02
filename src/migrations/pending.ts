import { MigratorError } from '../errors.js'
import type { AppliedMigration } from './history.js'
import type { GeneratedMigration } from './migration.js'

/**
 * The migrations still to apply, after checking that the files agree with
 * what the database recorded: an applied migration that was edited or
 * deleted, or a new one older than an applied one, stops everything.
 *
 * @throws MigratorError (stage `migrations`) naming the migration.
 */
export function pendingMigrations(
  files: readonly GeneratedMigration[],
  history: readonly AppliedMigration[],
): GeneratedMigration[] {
  const byName = new Map(files.map((file) => [file.name, file]))
  for (const applied of history) {
    const file = byName.get(applied.name)
    if (!file) {
      throw new MigratorError('migrations', `applied migration ${applied.name} is missing from generated-migrations/`, {
        hint: `restore ${applied.name}.ts from version control; the database recorded it as applied`,
      })
    }
    if (file.checksum !== applied.checksum) {
      throw new MigratorError(
        'migrations',
        `migration ${applied.name} was edited after it was applied (recorded ${applied.checksum}, file now ${file.checksum})`,
        {
          hint: `restore ${applied.name}.ts from version control; to change the schema, edit schema/ and run schema:plan for a new migration`,
        },
      )
    }
  }

  const applied = new Set(history.map((h) => h.name))
  const newestApplied = history.map((h) => h.name).sort().at(-1)
  const pending = files.filter((file) => !applied.has(file.name))
  const early = newestApplied === undefined ? undefined : pending.find((file) => file.name < newestApplied)
  if (early && newestApplied) {
    throw new MigratorError('migrations', `migration ${early.name} is older than ${newestApplied}, which is already applied`, {
      hint: `it was probably merged from another branch: delete ${early.name}.ts and run schema:plan to plan its changes anew`,
    })
  }
  return pending
}
