import type { Key } from './keyset.js'

/**
 * What a backfill run reports as it goes: the CLI turns each into a plain
 * line, a progress bar or a JSON line.
 */

export type BackfillPhase = 'walk' | 'final-pass' | 'catch-up'

export type BackfillEvent =
  | { readonly type: 'lock-waiting'; readonly backfill: string; readonly holder: string | null }
  | { readonly type: 'already-finished'; readonly backfill: string; readonly finishedAt: string; readonly rowsDone: number }
  | {
      readonly type: 'started'
      readonly backfill: string
      readonly table: string
      readonly keyColumns: readonly string[]
      /** Where a resumed run picks up; `null` from the start. */
      readonly resumedAfter: Key | null
      readonly rowsDoneBefore: number
      /** The planner's estimate of the keys left to walk. */
      readonly estimatedKeys: number
      readonly rerun: boolean
    }
  | {
      readonly type: 'batch'
      readonly backfill: string
      readonly phase: BackfillPhase
      readonly keys: number
      readonly rows: number
      readonly size: number
      readonly ms: number
      readonly reached: Key | null
      /** A row that needed it but another session held: the next batch waits for it. */
      readonly held: Key | null
      /** Totals of this run so far. */
      readonly keysWalked: number
      readonly rowsUpdated: number
      readonly estimatedKeys: number
    }
  | {
      readonly type: 'retrying'
      readonly backfill: string
      /** The row waited for, when the wait was for a row. */
      readonly key: Key | null
      readonly holder: string | null
      readonly sqlState: string
      readonly cause: string
      readonly retry: number
      readonly retries: number
      readonly delayMs: number
    }
  | { readonly type: 'batch-shrunk'; readonly backfill: string; readonly size: number; readonly cause: string }
  | { readonly type: 'final-pass'; readonly backfill: string; readonly after: Key | null; readonly upTo: Key; readonly keys: number; readonly rows: number }
  | { readonly type: 'caught-up'; readonly backfill: string; readonly found: number; readonly rows: number }
  | { readonly type: 'checked'; readonly backfill: string; readonly upTo: Key | null; readonly keys: number; readonly remaining: number }
  | {
      readonly type: 'finished'
      readonly backfill: string
      readonly rows: number
      readonly keys: number
      readonly batches: number
      readonly ms: number
      readonly rowsDoneTotal: number
    }
