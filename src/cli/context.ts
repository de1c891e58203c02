import { importSchema } from '../load-schema.js'
import { loadMigrations } from '../migrations/files.js'
import type { GeneratedMigration } from '../migrations/migration.js'
import { modelFromDefinition, namespacesOf } from '../model/from-definition.js'
import type { SchemaModel } from '../model/model.js'
import { type Prefetched, prefetchCatalog } from '../pipeline.js'
import { OWN_STATEMENT_TIMEOUT } from '../settings.js'
import { openTarget, type Target } from '../target/open.js'
import type { CommandOptions, Io } from './command.js'

export interface CommandContext {
  readonly declared: SchemaModel
  /** Empty unless the command asked for them. */
  readonly migrations: readonly GeneratedMigration[]
  readonly target: Target
  /** The target's catalog, already being read for the schema's namespaces (read-only commands); pass it to `compare`. */
  readonly prefetched: Prefetched | null
}

/**
 * What every command needs, in the order that keeps bad input away from the
 * database: the schema and the migration files load and are checked before
 * anything is sent that could change it. Closes the target afterwards.
 *
 * A read-only command (plan, verify) connects to a server while the schema
 * module loads, and reads the catalog while the model is built: the
 * connection and the server's work then cost no time of their own. A schema
 * that fails to load is still the error reported, at once: the connection is
 * dropped, made or not. The embedded database is opened only after the
 * modules load, since an open PGlite holds the process, and a module whose
 * top-level await never settles would then hang the command instead of
 * failing it (bin.ts reports it when the event loop empties; an idle server
 * connection does not hold it). A command that changes the database (apply,
 * backfill) connects only after the schema loaded and its signal handlers
 * are armed.
 */
export async function withContext<T>(
  options: CommandOptions & { readonly readMigrations: boolean; readonly handlesSignals?: boolean; readonly applicationName?: string },
  io: Io,
  run: (context: CommandContext) => Promise<T>,
): Promise<T> {
  const { settings } = options
  const open = (signal?: AbortSignal) => {
    if (settings.target.kind === 'pglite') {
      io.err(`schema: DATABASE_URL is not set; using the ${settings.target.display} (set DATABASE_URL for a real server)`)
    }
    return openTarget(settings.target, {
      connectTimeoutMs: settings.connectTimeoutMs,
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
      ownTimeouts: { lockTimeout: settings.timeouts.lockTimeout, statementTimeout: OWN_STATEMENT_TIMEOUT },
      ...(signal ? { signal } : {}),
    })
  }
  const early = !options.handlesSignals && settings.target.kind === 'postgres' ? startOpening(open) : null
  let declared: SchemaModel
  let migrations: readonly GeneratedMigration[]
  let prefetched: Prefetched | null = null
  try {
    const definition = await importSchema(settings.schemaPath)
    // The catalog of the schemas it names is read while the model is built and checked.
    if (early) prefetched = await prefetchWhenOpen(early, namespacesOf(definition))
    declared = modelFromDefinition(definition)
    migrations = options.readMigrations ? await loadMigrations(settings.migrationsDir, { appDir: settings.appDir }) : []
  } catch (error) {
    await early?.abandon()
    throw error
  }
  // From here on a signal must roll back rather than kill: arm the handlers just before connecting.
  // Until now Node's default ended the process at once, even inside a schema module that busy-loops.
  if (options.handlesSignals) options.armSignals()
  // A signal while connecting drops the attempt (apply then exits 130/143 saying nothing ran).
  const target = await (early?.target ?? open(options.signal))
  try {
    return await run({ declared, migrations, target, prefetched })
  } finally {
    await closeAfter(target, prefetched)
  }
}

/** A target being opened, and the target itself once it is open. */
interface Opening {
  readonly target: Promise<Target>
  readonly ready: () => Target | null
  /**
   * For a command that failed before it used the target: a connection attempt still under way is
   * dropped, and so is a catalog read still running, then the target is closed. Nothing waits for
   * a silent server or a catalog lock to report the command's own error.
   */
  readonly abandon: () => Promise<void>
}

function startOpening(open: (signal: AbortSignal) => Promise<Target>): Opening {
  let ready: Target | null = null
  const controller = new AbortController()
  const target = open(controller.signal)
  // Awaited later; until then its failure must not count as unhandled.
  target.then((opened) => (ready = opened), () => {})
  const abandon = async () => {
    controller.abort()
    const opened = await target.catch(() => null)
    if (opened === null) return
    opened.disconnect()
    await opened.close().catch(() => {})
  }
  return { target, ready: () => ready, abandon }
}

/** Starts reading the catalog of `namespaces` now if the target is open, or as soon as it is. */
async function prefetchWhenOpen(opening: Opening, namespaces: readonly string[]): Promise<Prefetched> {
  const target = opening.ready()
  if (target === null) {
    const live = opening.target.then((opened) => prefetchCatalog(opened.db, namespaces).live)
    live.catch(() => {})
    return { namespaces, live }
  }
  const prefetched = prefetchCatalog(target.db, namespaces)
  // Building the model next holds the thread: let the query reach the server first.
  await new Promise((resolve) => setImmediate(resolve))
  return prefetched
}

/** Closes `target` once a catalog read still running on it has ended (a run that failed before using it). */
async function closeAfter(target: Target, prefetched: Prefetched | null): Promise<void> {
  await prefetched?.live.catch(() => {})
  await target.close()
}

