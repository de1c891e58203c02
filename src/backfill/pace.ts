import type { BackfillSettings } from '../settings.js'

/**
 * How big each batch is and how long to rest after it. The size adapts so
 * that a batch takes about the target duration, which bounds how long any
 * application query can wait on a row the batch holds, whatever the rows
 * cost to update on this machine under this load. The rest is the larger of
 * the configured pause and what keeps the rows-per-second ceiling.
 */

export type PaceSettings = Pick<BackfillSettings, 'batchTargetMs' | 'batchMin' | 'batchMax' | 'pauseMs' | 'maxRowsPerSecond'>

/** The first batch's size: small enough to be short on any table, adapted from there. */
const FIRST_BATCH = 1000
/** At most this change in size from one batch to the next, either way: one slow batch does not collapse the pace. */
const MAX_STEP = 2

export class BatchPace {
  #size: number
  #rows = 0
  readonly #settings: PaceSettings
  readonly #started: number
  readonly #now: () => number

  constructor(settings: PaceSettings, now: () => number = () => performance.now()) {
    this.#settings = settings
    this.#now = now
    this.#started = now()
    this.#size = this.#clamp(FIRST_BATCH)
  }

  /** Keys the next batch walks. */
  get size(): number {
    return this.#size
  }

  /**
   * A batch took `ms` and updated `rows`: sets the next size and returns how
   * long to rest before it.
   */
  afterBatch(ms: number, rows: number): number {
    const factor = ms <= 0 ? MAX_STEP : Math.min(MAX_STEP, Math.max(1 / MAX_STEP, this.#settings.batchTargetMs / ms))
    this.#size = this.#clamp(Math.round(this.#size * factor))
    this.#rows += rows
    const { maxRowsPerSecond, pauseMs } = this.#settings
    if (maxRowsPerSecond === null) return pauseMs
    // Rows so far may not outrun the ceiling: rest until they no longer do.
    const due = (this.#rows / maxRowsPerSecond) * 1000 - (this.#now() - this.#started)
    return Math.max(pauseMs, Math.ceil(due))
  }

  /** A batch ran out of time (statement_timeout): halve the size. False when it is already the floor. */
  shrink(): boolean {
    if (this.#size <= this.#settings.batchMin) return false
    this.#size = this.#clamp(Math.floor(this.#size / 2))
    return true
  }

  #clamp(size: number): number {
    const { batchMin, batchMax, maxRowsPerSecond } = this.#settings
    // One batch never holds more than a second's worth of the rate ceiling.
    const ceiling = maxRowsPerSecond === null ? batchMax : Math.max(batchMin, Math.min(batchMax, maxRowsPerSecond))
    return Math.min(ceiling, Math.max(batchMin, size))
  }
}
