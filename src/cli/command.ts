import { MigratorError } from '../errors.js'
import type { AllowEntry } from '../plan/allowance.js'
import type { Settings } from '../settings.js'
import { hintForDatabaseError, sqlStateOf } from '../target/database-errors.js'

/** Where a command's text goes: stdout for results, stderr for notices and errors. */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

export interface CommandOptions {
  readonly settings: Settings
  readonly json: boolean
  readonly dryRun: boolean
  readonly allow: readonly AllowEntry[]
  /** Aborted on SIGINT or SIGTERM. */
  readonly signal: AbortSignal
}

/** What went wrong, in the parts every rendering needs. */
export interface ErrorReport {
  /** The pipeline stage, when the error came from one. */
  readonly stage: string | null
  readonly message: string
  readonly hint: string
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof MigratorError) {
    return { stage: error.stage, message: error.message, hint: error.hint ?? '' }
  }
  const sqlState = sqlStateOf(error)
  const detail = error instanceof Error ? error.message : String(error)
  return {
    stage: null,
    message: `${detail}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`,
    hint: hintForDatabaseError(error) ?? 'this was not expected: run the command again, and report it with this output if it repeats',
  }
}

/** `schema plan failed at the connect stage: ...` then `fix: ...`. */
export function renderError(command: string, error: unknown): string {
  const { stage, message, hint } = describeError(error)
  const head = `schema ${command} failed${stage ? ` at the ${stage} stage` : ''}: ${message}`
  return hint ? `${head}\nfix: ${hint}` : head
}
