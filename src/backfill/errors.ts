import { MigratorError } from '../errors.js'

/**
 * Why a backfill run stopped. Each error names the backfill; one description
 * serves the CLI's error text and its `BACKFILL FAILED` line.
 */

export class BackfillError extends MigratorError {
  override readonly name: string = 'BackfillError'
  readonly backfill: string
  readonly sqlState: string | null
  /** The message without the backfill's name in front. */
  readonly detail: string

  constructor(
    backfill: { readonly name: string },
    message: string,
    options: { readonly hint?: string; readonly sqlState?: string | null; readonly cause?: unknown } = {},
  ) {
    super('backfill', `backfill ${backfill.name}: ${message}`, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    })
    this.backfill = backfill.name
    this.detail = message
    this.sqlState = options.sqlState ?? null
  }
}

/** SIGINT or SIGTERM: the open batch was rolled back, every committed one is recorded. */
export class BackfillInterruptedError extends BackfillError {
  override readonly name = 'BackfillInterruptedError'
  constructor(backfill: { readonly name: string }, where: string) {
    super(backfill, `interrupted ${where}; the open batch was rolled back, and the progress of every committed batch is saved`, {
      hint: 'run schema:backfill again: it resumes after the last committed batch',
    })
  }
}
