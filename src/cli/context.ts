import { loadSchema } from '../load-schema.js'
import { loadMigrations } from '../migrations/files.js'
import type { GeneratedMigration } from '../migrations/migration.js'
import type { SchemaModel } from '../model/model.js'
import { OWN_STATEMENT_TIMEOUT } from '../settings.js'
import { openTarget, type Target } from '../target/open.js'
import type { CommandOptions, Io } from './command.js'

export interface CommandContext {
  readonly declared: SchemaModel
  /** Empty unless the command asked for them. */
  readonly migrations: readonly GeneratedMigration[]
  readonly target: Target
}

/**
 * What every command needs, in the order that keeps bad input away from the
 * database: the schema and the migration files load and are checked first,
 * and only then is the target opened. Closes the target afterwards.
 */
export async function withContext<T>(
  options: CommandOptions & { readonly readMigrations: boolean; readonly handlesSignals?: boolean; readonly applicationName?: string },
  io: Io,
  run: (context: CommandContext) => Promise<T>,
): Promise<T> {
  const { settings } = options
  const declared = await loadSchema(settings.schemaPath)
  const migrations = options.readMigrations ? await loadMigrations(settings.migrationsDir, { appDir: settings.appDir }) : []
  // From here on a signal must roll back rather than kill: arm the handlers just before connecting.
  // Until now Node's default ended the process at once, even inside a schema module that busy-loops.
  if (options.handlesSignals) options.armSignals()
  if (settings.target.kind === 'pglite') {
    io.err(`schema: DATABASE_URL is not set; using the ${settings.target.display} (set DATABASE_URL for a real server)`)
  }
  const target = await openTarget(settings.target, {
    connectTimeoutMs: settings.connectTimeoutMs,
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    ownTimeouts: { lockTimeout: settings.timeouts.lockTimeout, statementTimeout: OWN_STATEMENT_TIMEOUT },
  })
  try {
    return await run({ declared, migrations, target })
  } finally {
    await target.close()
  }
}
