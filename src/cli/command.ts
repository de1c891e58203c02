import { MigratorError } from '../errors.js'
import type { HazardCode } from '../plan/hazards.js'
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
  readonly allow: ReadonlySet<HazardCode>
  /** Aborted on SIGINT or SIGTERM. */
  readonly signal: AbortSignal
}

/** `schema plan failed at the connect stage: ...` then `fix: ...`. */
export function renderError(command: string, error: unknown): string {
  if (error instanceof MigratorError) {
    const lines = [`schema ${command} failed at the ${error.stage} stage: ${error.message}`]
    if (error.hint) lines.push(`fix: ${error.hint}`)
    return lines.join('\n')
  }
  const sqlState = sqlStateOf(error)
  const detail = error instanceof Error ? error.message : String(error)
  const hint = hintForDatabaseError(error) ?? 'this was not expected: run the command again, and report it with this output if it repeats'
  return `schema ${command} failed: ${detail}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}\nfix: ${hint}`
}
