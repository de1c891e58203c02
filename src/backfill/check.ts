import { type Kysely, sql } from 'kysely'
import { sqlStateOf } from '../target/database-errors.js'
import type { BackfillTarget } from './inspect.js'
import { declaredSql, type Key, keyAsText, keyList, keyRange, keyRow, tableSql } from './keyset.js'

/**
 * The check a backfill ends with: no row up to the key reached still meets
 * its `where`. Read-only, walked in chunks of the primary key so that every
 * statement stays short on any table size. Returns the chunks that still
 * hold such rows, for the caller to fill (rows an application inserted or
 * changed behind the walk) before it checks again.
 */

export interface CheckResult {
  /** Rows up to `upTo` that still meet `where`. */
  readonly remaining: number
  /** Keys read. */
  readonly keys: number
  /** The key ranges, `(after, upTo]`, that hold them. */
  readonly dirty: readonly { readonly after: Key | null; readonly upTo: Key }[]
}

const CHUNK = 50_000
const SMALLEST_CHUNK = 1_000

export async function checkBackfill(
  db: Kysely<unknown>,
  target: BackfillTarget,
  options: { readonly upTo: Key; readonly statementTimeout: string; readonly signal: AbortSignal },
): Promise<CheckResult> {
  let chunk = CHUNK
  let after: Key | null = null
  let remaining = 0
  let keys = 0
  const dirty: { after: Key | null; upTo: Key }[] = []
  for (;;) {
    if (options.signal.aborted) throw new Error('interrupted')
    let row
    try {
      row = await checkChunk(db, target, { after, upTo: options.upTo, chunk, statementTimeout: options.statementTimeout })
    } catch (error) {
      // A chunk that outruns the statement timeout is halved, down to a floor; anything else is the caller's.
      if (sqlStateOf(error) === '57014' && chunk > SMALLEST_CHUNK && !options.signal.aborted) {
        chunk = Math.max(SMALLEST_CHUNK, Math.floor(chunk / 2))
        continue
      }
      throw error
    }
    if (!row) return { remaining, keys, dirty }
    keys += row.keys
    if (row.remaining > 0) {
      remaining += row.remaining
      dirty.push({ after, upTo: row.end })
    }
    after = row.end
  }
}

async function checkChunk(
  db: Kysely<unknown>,
  target: BackfillTarget,
  chunk: { readonly after: Key | null; readonly upTo: Key; readonly chunk: number; readonly statementTimeout: string },
): Promise<{ end: Key; keys: number; remaining: number } | null> {
  await sql`BEGIN READ ONLY`.execute(db)
  try {
    await sql`SELECT set_config('statement_timeout', ${chunk.statementTimeout}, true)`.execute(db)
    const { rows } = await sql<{ end_key: string[] | null; keys: string; remaining: string }>`
      WITH _bf_chunk AS MATERIALIZED (
        SELECT ${keyList(target)} FROM ${tableSql(target)} WHERE ${keyRange(target, chunk.after, chunk.upTo)}
         ORDER BY ${keyList(target)} LIMIT ${chunk.chunk}
      ), _bf_end AS MATERIALIZED (
        SELECT ${keyList(target)} FROM _bf_chunk ORDER BY ${keyList(target, 'DESC')} LIMIT 1
      )
      SELECT (SELECT ${keyAsText(target)} FROM _bf_end) AS end_key,
             (SELECT count(*) FROM _bf_chunk) AS keys,
             (SELECT count(*) FROM ${tableSql(target)}
               WHERE ${keyRange(target, chunk.after, null)} AND ${keyRow(target)} <= (SELECT ${keyList(target)} FROM _bf_end)
                 AND ${declaredSql(target.backfill.where)}) AS remaining`.execute(db)
    await sql`COMMIT`.execute(db)
    const row = rows[0]
    if (!row?.end_key) return null
    return { end: row.end_key, keys: Number(row.keys), remaining: Number(row.remaining) }
  } catch (error) {
    await sql`ROLLBACK`.execute(db).catch(() => {})
    throw error
  }
}
