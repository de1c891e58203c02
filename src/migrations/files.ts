import { mkdir, open, readdir } from 'node:fs/promises'
import path from 'node:path'
import { MigratorError } from '../errors.js'
import { importModule } from '../load-module.js'
import { type GeneratedMigration, type MigrationLink, type MigrationStep, checksumOf } from './migration.js'

/**
 * Reading and writing `generated-migrations/`.
 *
 * A migration file is named `NNNN_slug.ts` (or `.js` once compiled for the
 * production image); the name orders it. Anything else in the folder that
 * looks like a module is an error, not silently skipped.
 */

const MIGRATION_FILE = /^(\d{4,})_[a-z0-9_]+\.(ts|js)$/
const isModule = (file: string) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts')

export interface LoadOptions {
  /** The application's folder: generated migrations import `kysely` as it resolves from there. */
  readonly appDir?: string
}

/** Every migration in `dir`, in order. A missing folder holds none. */
export async function loadMigrations(dir: string, options: LoadOptions = {}): Promise<GeneratedMigration[]> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new MigratorError('migrations', `cannot read ${dir}: ${(error as Error).message}`, {
      hint: 'check that the generated-migrations folder is readable',
      cause: error,
    })
  }

  const files = entries.filter(isModule).sort()
  const strays = files.filter((file) => !MIGRATION_FILE.test(file))
  if (strays.length > 0) {
    throw new MigratorError('migrations', `${dir} holds files that are not generated migrations: ${strays.join(', ')}`, {
      hint: 'generated migrations are named NNNN_name.ts by schema:plan; move other files elsewhere',
    })
  }
  const numbers = new Map<string, string>()
  for (const file of files) {
    const number = String(Number.parseInt(file, 10))
    const other = numbers.get(number)
    if (other) {
      throw new MigratorError('migrations', `${file} and ${other} share the sequence number ${number}`, {
        hint: 'two plans were written in parallel branches: delete the one not yet applied and run schema:plan again',
      })
    }
    numbers.set(number, file)
  }

  const migrations: GeneratedMigration[] = []
  const appDir = options.appDir ?? process.cwd()
  for (const file of files) migrations.push(await loadMigration(path.join(dir, file), appDir))
  return migrations
}

async function loadMigration(file: string, appDir: string): Promise<GeneratedMigration> {
  const name = path.basename(file).replace(/\.(ts|js)$/, '')
  let module: Record<string, unknown>
  try {
    module = await importModule(file, { kyselyFrom: appDir })
  } catch (error) {
    const missing = missingPackage(error)
    throw new MigratorError('migrations', `migration ${name} failed to load: ${(error as Error).message?.split('\n')[0]}`, {
      hint:
        missing === null
          ? `restore ${path.basename(file)} from version control; generated migrations are not edited by hand`
          : `install ${missing} in the application (npm install ${missing}); the file itself is fine`,
      cause: error,
    })
  }
  const { steps, schemaHash, downSteps, checksum, follows } = module
  if (!Array.isArray(steps) || !steps.every(isStep) || typeof schemaHash !== 'string') {
    throw new MigratorError('migrations', `migration ${name} does not export \`steps\` and \`schemaHash\` as schema:plan writes them`, {
      hint: `restore ${path.basename(file)} from version control, or delete it if it was never applied and run schema:plan`,
    })
  }
  return {
    name,
    path: file,
    schemaHash,
    steps,
    downSteps: Array.isArray(downSteps) ? downSteps.map(String) : null,
    checksum: checksumOf(steps),
    writtenChecksum: typeof checksum === 'string' ? checksum : null,
    follows: follows === null ? null : isLink(follows) ? follows : undefined,
  }
}

/** The package a failed import could not find (`kysely`), or `null` if it failed for another reason. */
function missingPackage(error: unknown): string | null {
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return null
  const [, name] = /(?:package|module) '((?:@[^/']+\/)?[^/'.][^/']*)/.exec(String(message)) ?? []
  return name ?? null
}

function isLink(value: unknown): value is MigrationLink {
  const link = value as Partial<MigrationLink> | null | undefined
  return typeof link?.name === 'string' && typeof link.checksum === 'string'
}

function isStep(value: unknown): value is MigrationStep {
  const step = value as Partial<MigrationStep> | null
  return (
    typeof step === 'object' &&
    step !== null &&
    typeof step.sql === 'string' &&
    typeof step.subject === 'string' &&
    typeof step.kind === 'string' &&
    Array.isArray(step.hazards)
  )
}

/**
 * Writes a new migration. Never overwrites: if another `schema:plan` wrote the
 * same name first, this one fails and says so.
 */
export async function writeMigration(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, `${name}.ts`)
  try {
    await mkdir(dir, { recursive: true })
    const handle = await open(file, 'wx')
    try {
      await handle.writeFile(text)
    } finally {
      await handle.close()
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new MigratorError(
      'write',
      code === 'EEXIST'
        ? `${path.basename(file)} already exists: another schema:plan wrote it first`
        : `cannot write ${file}: ${(error as Error).message}`,
      { hint: code === 'EEXIST' ? 'run schema:plan again' : `check that ${dir} is writable`, cause: error },
    )
  }
  return file
}
