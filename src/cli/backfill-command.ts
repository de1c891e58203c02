import type { BackfillModel } from '../backfill/definition.js'
import { BackfillError } from '../backfill/errors.js'
import { describeKey, type Key } from '../backfill/keyset.js'
import { loadBackfills } from '../backfill/load.js'
import type { BackfillEvent } from '../backfill/events.js'
import { type BackfillSummary, checkRerun, runBackfills } from '../backfill/run.js'
import { loadSchema } from '../load-schema.js'
import { displayTableName } from '../model/model.js'
import { type CommandOptions, describeError, type Io } from './command.js'
import { withContext } from './context.js'

/**
 * `schema:backfill`, what the compose `backfill` service runs after `migrate`.
 * Plain lines on stdout for logs (progress every few seconds); on a terminal a
 * progress bar on stderr instead; with `--json`, one JSON object per line.
 * Exit 0 only when every declared backfill is finished and checked; a failure
 * ends with a line that starts `BACKFILL FAILED`.
 */

/** How often a plain progress line is written to a log. */
const LOG_EVERY_MS = 5_000
/** How often `--json` reports a batch (a batch that met a held row always). */
const JSON_EVERY_MS = 1_000
/** How often the progress bar is redrawn. */
const DRAW_EVERY_MS = 100

export async function runBackfill(options: CommandOptions, io: Io, rerun: readonly string[]): Promise<number> {
  const view = new ProgressView(io, options.json)
  try {
    // Declarations are checked before anything connects; withContext then finds the schema module loaded.
    await loadSchema(options.settings.schemaPath)
    const backfills = await loadBackfills(options.settings.schemaPath)
    checkRerun(backfills, new Set(rerun))
    return await withContext(
      { ...options, readMigrations: false, handlesSignals: true, applicationName: 'schema-backfill' },
      io,
      async ({ target }) => {
        view.line({ event: 'target', target: target.spec.display }, `schema backfill: target ${target.spec.display}`)
        view.line(
          { event: 'declared', backfills: backfills.map((b) => ({ name: b.name, table: displayTableName(b.table), columns: b.set.map((s) => s.column) })) },
          backfills.length === 0
            ? 'no backfills declared in schema/'
            : `${`${backfills.length} backfill${backfills.length === 1 ? '' : 's'}`} declared: ${backfills.map((b) => `${b.name} (${describeColumns(b)})`).join(', ')}`,
        )
        const summaries = await runBackfills({
          db: target.db,
          backfills,
          settings: options.settings.backfill,
          timeouts: options.settings.timeouts,
          lockRetries: options.settings.lockRetries,
          rerun: new Set(rerun),
          signal: options.signal,
          pooler: target.pooler,
          cancel: () => target.cancel(),
          disconnect: () => target.disconnect(),
          onEvent: (event) => view.event(event, backfills),
        })
        view.line({ event: 'summary', ok: true, backfills: summaries }, summaryLine(summaries))
        return 0
      },
    )
  } catch (error) {
    view.failed(error)
    return options.signal.aborted ? (options.signal.reason === 'SIGINT' ? 130 : 143) : 1
  }
}

/** `1 row`, `200,000 rows`. */
function rows(n: number): string {
  return `${n.toLocaleString('en')} row${n === 1 ? '' : 's'}`
}

function describeColumns(backfill: BackfillModel): string {
  return backfill.set.map((s) => `${displayTableName(backfill.table)}.${s.column}`).join(', ')
}

function summaryLine(summaries: readonly BackfillSummary[]): string {
  if (summaries.length === 0) return 'Backfills: none declared, nothing to do.'
  const ran = summaries.filter((s) => s.outcome === 'finished')
  const earlier = summaries.filter((s) => s.outcome === 'already-finished')
  const parts = [
    `${ran.length} finished and checked${ran.length > 0 ? ` (${ran.map((s) => `${s.backfill}: ${rows(s.rows)} filled`).join(', ')})` : ''}`,
    `${earlier.length} finished earlier${earlier.length > 0 ? ` (${earlier.map((s) => s.backfill).join(', ')})` : ''}`,
  ]
  return `Backfills: ${parts.join('; ')}.`
}

/** Rate and time left of the backfill that is running, from its batch events. */
interface Running {
  readonly name: string
  readonly keyColumns: readonly string[]
  readonly startedAt: number
  lastLogAt: number
  lastJsonAt: number
  lastDrawAt: number
}

/** Where each event goes: a plain line, a JSON line, or the progress bar. */
class ProgressView {
  #running: Running | null = null
  #barShown = false

  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A line that is always written: JSON `object`, or `text`. */
  line(object: object, text: string): void {
    this.#clearBar()
    this.io.out(this.json ? JSON.stringify(object) : text)
  }

  event(event: BackfillEvent, backfills: readonly BackfillModel[]): void {
    const { type, ...fields } = event
    const object = { event: type, ...fields }
    if (event.type === 'started') {
      const now = performance.now()
      this.#running = { name: event.backfill, keyColumns: event.keyColumns, startedAt: now, lastLogAt: now, lastJsonAt: 0, lastDrawAt: 0 }
    }
    if (event.type === 'batch') return this.#batch(event, object)
    if (event.type === 'finished') this.#running = null
    const text = this.#describe(event, backfills)
    if (text !== null) this.line(object, text)
  }

  failed(error: unknown): void {
    this.#clearBar()
    const { stage, message, hint } = describeError(error)
    const last = `BACKFILL FAILED: ${stage ? `[${stage}] ` : ''}${message}`
    if (this.json) {
      const fields = error instanceof BackfillError ? { backfill: error.backfill, sqlState: error.sqlState } : {}
      this.io.out(JSON.stringify({ event: 'failed', ok: false, ...fields, hint, message: last }))
      return
    }
    if (hint) this.io.err(`fix: ${hint}`)
    this.io.err(last)
  }

  #batch(event: Extract<BackfillEvent, { type: 'batch' }>, object: object): void {
    const running = this.#running
    const now = performance.now()
    if (this.json) {
      if (event.held || !running || now - running.lastJsonAt >= JSON_EVERY_MS) {
        if (running) running.lastJsonAt = now
        this.line(object, '')
      }
      return
    }
    if (event.held) this.line(object, `${event.backfill}: row ${this.#key(event.held)} is held by another session; the next batch waits for it first`)
    if (!running) return
    if (this.io.status) {
      if (now - running.lastDrawAt < DRAW_EVERY_MS) return
      running.lastDrawAt = now
      this.io.status(progressText(event, running, now, true))
      this.#barShown = true
    } else if (now - running.lastLogAt >= LOG_EVERY_MS) {
      running.lastLogAt = now
      this.line(object, progressText(event, running, now, false))
    }
  }

  #describe(event: BackfillEvent, backfills: readonly BackfillModel[]): string | null {
    const name = event.backfill
    switch (event.type) {
      case 'lock-waiting':
        return `${name}: another runner is running it (${event.holder ?? 'another session'}); waiting for it to finish`
      case 'already-finished':
        return `${name}: finished earlier (${event.finishedAt}, ${rows(event.rowsDone)} filled); nothing to do`
      case 'started': {
        const backfill = backfills.find((b) => b.name === name)
        const what = backfill ? `${describeColumns(backfill)} where ${oneLine(backfill.where)}` : event.table
        const from = event.resumedAfter
          ? `resuming after ${this.#key(event.resumedAfter)} (${rows(event.rowsDoneBefore)} filled before)`
          : event.rerun
            ? 'started again from the beginning (--rerun)'
            : 'starting'
        return `${name}: ${from}: ${what}; about ${event.estimatedKeys.toLocaleString('en')} rows to walk by ${event.keyColumns.join(', ')}`
      }
      case 'retrying':
        return `${name}: ${event.key ? `row ${this.#key(event.key)} still held${event.holder ? ` by ${event.holder}` : ''}: ` : ''}${event.cause} (SQLSTATE ${event.sqlState}); rolled back the batch, retry ${event.retry} of ${event.retries} in ${(event.delayMs / 1000).toFixed(1)}s`
      case 'batch-shrunk':
        return `${name}: a batch outran its statement timeout (${event.cause}); batches now walk at most ${event.size.toLocaleString('en')} rows`
      case 'final-pass':
        if (event.keys === 0) return `${name}: final pass: no row added since the walk began`
        return `${name}: final pass over rows added since the walk began (after ${event.after ? this.#key(event.after) : 'the start'} up to ${this.#key(event.upTo)}): ${rows(event.keys)} walked, ${event.rows.toLocaleString('en')} filled`
      case 'caught-up':
        return `${name}: the check found ${rows(event.found)} behind the walk that still needed it (written meanwhile); filled ${event.rows.toLocaleString('en')}`
      case 'checked':
        return event.remaining === 0
          ? `${name}: check: no row up to ${event.upTo ? this.#key(event.upTo) : 'the end'} still needs it (${rows(event.keys)} read)`
          : `${name}: check: ${rows(event.remaining)} up to ${event.upTo ? this.#key(event.upTo) : 'the end'} still need it`
      case 'finished':
        return `${name}: finished: ${rows(event.rows)} filled in ${event.batches} batch${event.batches === 1 ? '' : 'es'} over ${rows(event.keys)} walked, ${(event.ms / 1000).toFixed(1)}s${event.rowsDoneTotal !== event.rows ? ` (${event.rowsDoneTotal.toLocaleString('en')} since it started)` : ''}`
      case 'batch':
        return null
    }
  }

  #key(key: Key): string {
    return describeKey({ key: this.#running?.keyColumns ?? key.map((_, i) => `key${i + 1}`) }, key)
  }

  #clearBar(): void {
    if (!this.#barShown) return
    this.io.status?.('')
    this.#barShown = false
  }
}

/** `call_log_duration_sec [#####-----] 48% 480,000/~1,000,000 rows · 470,000 filled · 52,000 rows/s · about 10s left` */
function progressText(event: Extract<BackfillEvent, { type: 'batch' }>, running: Running, now: number, bar: boolean): string {
  const estimate = Math.max(event.estimatedKeys, event.keysWalked)
  const fraction = estimate === 0 ? 1 : Math.min(1, event.keysWalked / estimate)
  const seconds = (now - running.startedAt) / 1000
  const rate = seconds > 0 ? event.keysWalked / seconds : 0
  const left = rate > 0 ? Math.max(0, (estimate - event.keysWalked) / rate) : null
  const width = 20
  const filled = Math.round(fraction * width)
  const head = bar ? `${event.backfill} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : `${event.backfill}:`
  return [
    `${head} ${Math.floor(fraction * 100)}% ${event.keysWalked.toLocaleString('en')}/~${estimate.toLocaleString('en')} rows walked`,
    `${event.rowsUpdated.toLocaleString('en')} filled`,
    `${Math.round(rate).toLocaleString('en')} rows/s`,
    left === null ? 'time left unknown' : `about ${formatSeconds(left)} left`,
  ].join(bar ? ' · ' : ', ')
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}min ${Math.ceil(seconds % 60)}s`
  return `${Math.floor(seconds / 3600)}h ${Math.round((seconds % 3600) / 60)}min`
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
