import { type Kysely, sql } from 'kysely'
import { sqlStateOf } from '../target/database-errors.js'
import type { BackfillTarget } from './inspect.js'
import { declaredSql, type Key, keyAsText, keyList, keyRange, keyRow, keyValues, tableSql } from './keyset.js'
import { recordBatch } from './progress.js'

/**
 * One batch: one short transaction over the next `size` primary keys, with
 * its own lock_timeout and statement_timeout (transaction-local, so no role,
 * database or URL setting changes them), that fills the rows among them that
 * still need it and records the key it reached, all committed together.
 *
 * While it holds rows, the batch waits for a row an application holds only
 * `rowWait` (about one batch's duration); if that runs out, it starts over
 * taking only the rows nobody holds (`SKIP LOCKED`), fills those before the
 * first held one, and stops there. The next batch then starts by waiting for
 * that row alone, up to `lock_timeout`, holding no other row. No row that
 * needs the backfill is ever passed over: a held row is waited for, and a
 * wait that runs out is an error the caller retries, never a skip.
 */

export interface BatchRequest {
  /** Walk keys after this one (`null`: from the first). */
  readonly after: Key | null
  /** ... up to and including this one (`null`: to the last). */
  readonly upTo: Key | null
  /** Keys to walk at most. */
  readonly size: number
  /** A row found held last time: wait for it first, up to lock_timeout. */
  readonly waitFor: Key | null
  /** Record the key reached as the resume point (the catch-up pass behind it does not). */
  readonly advance: boolean
  readonly timeouts: BatchTimeouts
}

export interface BatchTimeouts {
  /** How long the batch waits for the one held row it starts with, or for its table lock. */
  readonly lockTimeout: string
  /** Bounds those two waits: longer than lock_timeout, so that a wait ends as a lock timeout. */
  readonly waitStatementTimeout: string
  /** How long its UPDATE waits for a row before it falls back to skipping held rows. */
  readonly rowWait: string
  readonly statementTimeout: string
}

/** What a batch was doing when it failed: a wait for a held row is told apart from the rest. */
export type BatchStep = 'taking the table lock' | 'waiting for the held row' | 'filling'

export interface BatchOutcome {
  /** Keys walked; 0 when no key is left in the range. */
  readonly keys: number
  /** Rows updated. */
  readonly rows: number
  /** The last key walked; the next batch starts after it. */
  readonly reached: Key | null
  /** The first row that needed the backfill but was held by another session; the next batch waits for it. */
  readonly blocked: Key | null
  /** The batch's own time, from its first statement after any wait to COMMIT. */
  readonly ms: number
}

/**
 * Runs the batch: all rows of its range at once, or, when the application
 * holds one of them past `rowWait`, again (in a new transaction) up to the
 * first held row.
 *
 * @param position set to the step under way, for the caller's messages when the batch fails.
 */
export async function runBatch(
  db: Kysely<unknown>,
  target: BackfillTarget,
  batch: BatchRequest,
  position: { step: BatchStep },
): Promise<BatchOutcome> {
  try {
    return await attempt(db, target, batch, position, 'all rows')
  } catch (error) {
    if (sqlStateOf(error) !== '55P03' || position.step !== 'filling') throw error
    return attempt(db, target, batch, position, 'rows no one holds')
  }
}

/** One transaction: six round trips on the usual path (BEGIN, timeouts, table lock, range, fill, COMMIT). */
async function attempt(
  db: Kysely<unknown>,
  target: BackfillTarget,
  batch: BatchRequest,
  position: { step: BatchStep },
  rows: 'all rows' | 'rows no one holds',
): Promise<BatchOutcome> {
  position.step = 'taking the table lock'
  await sql`BEGIN`.execute(db)
  try {
    await sql`SELECT set_config('lock_timeout', ${batch.timeouts.lockTimeout}, true),
                     set_config('statement_timeout', ${batch.timeouts.waitStatementTimeout}, true)`.execute(db)
    // The table lock an UPDATE takes, taken first, holding nothing: a DDL in the way (schema:apply's) is waited
    // for up to lock_timeout here, and is not mistaken below for an application holding rows.
    await sql`LOCK TABLE ${tableSql(target)} IN ROW EXCLUSIVE MODE`.execute(db)
    if (batch.waitFor) {
      position.step = 'waiting for the held row'
      await sql`SELECT FROM ${tableSql(target)} WHERE ${keyRow(target)} = ${keyValues(batch.waitFor)} AND ${declaredSql(target.backfill.where)} FOR NO KEY UPDATE`.execute(db)
    }
    position.step = 'filling'
    const started = performance.now()
    const range = await rangeEnd(db, target, batch)
    if (!range) {
      await sql`COMMIT`.execute(db)
      return { keys: 0, rows: 0, reached: batch.after, blocked: null, ms: performance.now() - started }
    }
    const filled = rows === 'all rows' ? await fillAll(db, target, batch, range.end) : await fillUnheldRows(db, target, batch, range.end)
    await sql`COMMIT`.execute(db)
    return { keys: range.keys, rows: filled.rows, reached: filled.reached ?? batch.after, blocked: filled.blocked, ms: performance.now() - started }
  } catch (error) {
    // If the connection is gone, the server has rolled back already and this fails too.
    await sql`ROLLBACK`.execute(db).catch(() => {})
    throw error
  }
}

/** The statement every batch runs, and what the inspection plans (without bounds) before any write. */
export function updateStatement(target: BackfillTarget, after: Key | null, upTo: Key | null) {
  const assignments = target.backfill.set.map(({ column, sql: expression }) => sql`${sql.id(column)} = ${declaredSql(expression)}`)
  return sql`UPDATE ${tableSql(target)} SET ${sql.join(assignments)}
    WHERE ${keyRange(target, after, upTo)} AND ${declaredSql(target.backfill.where)}`
}

/**
 * The last of the next `size` keys, and how many there are; `null` when none
 * is left. Reads the key's index only. Sets the filling timeouts on the way:
 * from here on a row is waited for only `rowWait`.
 */
async function rangeEnd(db: Kysely<unknown>, target: BackfillTarget, batch: BatchRequest): Promise<{ end: Key; keys: number } | null> {
  const { rows } = await sql<{ end_key: string[] | null; keys: string }>`
    WITH _bf_range AS MATERIALIZED (
      SELECT ${keyList(target)} FROM ${tableSql(target)}
       WHERE ${keyRange(target, batch.after, batch.upTo)}
       ORDER BY ${keyList(target)} LIMIT ${batch.size}
    )
    SELECT set_config('lock_timeout', ${batch.timeouts.rowWait}, true),
           set_config('statement_timeout', ${batch.timeouts.statementTimeout}, true),
           (SELECT ${keyAsText(target)} FROM _bf_range ORDER BY ${keyList(target, 'DESC')} LIMIT 1) AS end_key,
           (SELECT count(*) FROM _bf_range) AS keys`.execute(db)
  const row = rows[0]
  return row?.end_key ? { end: row.end_key, keys: Number(row.keys) } : null
}

interface Filled {
  readonly rows: number
  /** `null` when no key of the range comes before the first held row. */
  readonly reached: Key | null
  readonly blocked: Key | null
}

/** Every row of (after, end] that needs it, and the batch's progress, in one statement. */
async function fillAll(db: Kysely<unknown>, target: BackfillTarget, batch: BatchRequest, end: Key): Promise<Filled> {
  // Counted from RETURNING rather than the command tag, which the embedded database does not report.
  const { rows } = await sql<{ rows: string }>`
    WITH _bf_updated AS (${updateStatement(target, batch.after, end)} RETURNING 1),
         _bf_progress AS (${recordBatch(target.backfill.name, batch.advance ? end : null, sql`(SELECT count(*) FROM _bf_updated)`)})
    SELECT count(*) AS rows FROM _bf_updated`.execute(db)
  return { rows: Number(rows[0]?.rows ?? 0), reached: end, blocked: null }
}

/**
 * One statement: lock the rows of the range that need the backfill and that
 * no one holds, find the first one that someone holds, update the locked rows
 * before it, and return the key just before it as the key reached.
 */
async function fillUnheldRows(db: Kysely<unknown>, target: BackfillTarget, batch: BatchRequest, end: Key): Promise<Filled> {
  const { after } = batch
  const table = tableSql(target)
  const range = keyRange(target, after, end)
  const needed = declaredSql(target.backfill.where)
  const assignments = target.backfill.set.map(({ column, sql: expression }) => sql`${sql.id(column)} = ${declaredSql(expression)}`)
  const { rows } = await sql<{ rows: string; blocked: string[] | null; reached: string[] | null }>`
    WITH _bf_locked AS MATERIALIZED (
      SELECT ${keyList(target)} FROM ${table} WHERE ${range} AND ${needed} FOR NO KEY UPDATE SKIP LOCKED
    ), _bf_blocked AS MATERIALIZED (
      SELECT ${keyList(target)}
        FROM (SELECT ${keyList(target)} FROM ${table} WHERE ${range} AND ${needed}
              EXCEPT SELECT ${keyList(target)} FROM _bf_locked) AS _bf_held
       ORDER BY ${keyList(target)} LIMIT 1
    ), _bf_updated AS (
      UPDATE ${table} SET ${sql.join(assignments)}
       WHERE ${keyRow(target)} IN (
         SELECT ${sql.join(target.key.map((column) => sql.id('_bf_l', column)))} FROM _bf_locked AS _bf_l
          WHERE NOT EXISTS (SELECT FROM _bf_blocked AS _bf_b WHERE ${keyRow(target, '_bf_b')} <= ${keyRow(target, '_bf_l')}))
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM _bf_updated) AS rows,
           (SELECT ${keyAsText(target)} FROM _bf_blocked) AS blocked,
           (SELECT ${keyAsText(target)} FROM ${table}
             WHERE ${keyRange(target, after, end)} AND ${keyRow(target)} < (SELECT ${keyList(target)} FROM _bf_blocked)
             ORDER BY ${keyList(target, 'DESC')} LIMIT 1) AS reached`.execute(db)
  const row = rows[0]
  const blocked = row?.blocked ?? null
  const filled = { rows: Number(row?.rows ?? 0), blocked, reached: blocked ? (row?.reached ?? null) : end }
  await recordBatch(target.backfill.name, batch.advance ? (filled.reached ?? after) : null, sql`${filled.rows}`).execute(db)
  return filled
}
