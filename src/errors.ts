/**
 * Errors raised by the pipeline stages.
 *
 * Core code never prints or exits: it throws one of these, and the CLI turns
 * it into a message and an exit code. Each error names the stage that failed
 * and, where there is one, the fix.
 */

export type Stage = 'settings' | 'schema' | 'migrations' | 'connect' | 'introspect' | 'plan' | 'write' | 'lock' | 'apply' | 'assert' | 'backfill'

export class MigratorError extends Error {
  override readonly name: string = 'MigratorError'
  readonly stage: Stage
  /** What the user can do about it; printed after the message. */
  readonly hint: string | undefined

  constructor(stage: Stage, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.stage = stage
    this.hint = options.hint
  }
}

/** An invalid type spelling; callers add the table and column it belongs to. */
export class TypeSpecError extends Error {
  override readonly name = 'TypeSpecError'
}
