import { MigratorError } from '../errors.js'
import type { AllowEntry } from '../plan/allowance.js'
import type { Settings } from '../settings.js'
import { hintForDatabaseError, sqlStateOf } from '../target/database-errors.js'

/** Where a command's text goes: stdout for results, stderr for notices and errors. */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Replaces the transient status line (a progress bar); present only when stderr is a terminal. `''` clears it. */
  readonly status?: (text: string) => void
}

export interface CommandOptions {
  readonly settings: Settings
  readonly json: boolean
  readonly dryRun: boolean
  readonly allow: readonly AllowEntry[]
  /** Aborted on SIGINT or SIGTERM, once `armSignals` has been called. */
  readonly signal: AbortSignal
  /** Installs the SIGINT/SIGTERM handlers; before that a signal ends the process at once. */
  readonly armSignals: () => void
}

/** What went wrong, in the parts every rendering needs. */
export interface ErrorReport {
  /** The pipeline stage, when the error came from one. */
  readonly stage: string | null
  readonly message: string
  readonly hint: string
}

/** What each optional dependency is for: `npm ci --omit=optional` (the migrate image) leaves them out. */
const OPTIONAL_PACKAGES: Readonly<Record<string, string>> = {
  'ts-morph': '`plan` writes migrations with it and `check` reads the schema source with it',
  '@electric-sql/pglite': 'the embedded database (no DATABASE_URL) and `check` run on it',
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof MigratorError) {
    return { stage: error.stage, message: error.message, hint: error.hint ?? '' }
  }
  const optional = missingOptionalPackage(error)
  if (optional !== null) {
    return {
      stage: null,
      message: `${optional} is not installed`,
      hint: `${OPTIONAL_PACKAGES[optional]}; it is an optional dependency, left out by \`npm ci --omit=optional\` (as in the migrate image, which only applies and verifies): npm install ${optional}`,
    }
  }
  const sqlState = sqlStateOf(error)
  const detail = error instanceof Error ? error.message : String(error)
  return {
    stage: null,
    message: `${detail}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`,
    hint: hintForDatabaseError(error) ?? 'this was not expected: run the command again, and report it with this output if it repeats',
  }
}

/** The last line of every failed apply run, which the seed's operators grep for. */
export function migrationFailedLine(error: unknown): string {
  const { stage, message } = describeError(error)
  return `MIGRATION FAILED: ${stage ? `[${stage}] ` : 'schema apply failed: '}${message}`
}

function missingOptionalPackage(error: unknown): string | null {
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND') return null
  return Object.keys(OPTIONAL_PACKAGES).find((name) => String(message).includes(`'${name}'`)) ?? null
}

/** `schema plan failed at the connect stage: ...` then `fix: ...`. */
export function renderError(command: string, error: unknown): string {
  const { stage, message, hint } = describeError(error)
  const head = `schema ${command} failed${stage ? ` at the ${stage} stage` : ''}: ${message}`
  return hint ? `${head}\nfix: ${hint}` : head
}
