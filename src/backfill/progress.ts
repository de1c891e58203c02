import { type Kysely, type RawBuilder, sql } from 'kysely'
import { HISTORY_SCHEMA } from '../migrations/history.js'
import type { Key } from './keyset.js'
import type { BackfillTarget } from './inspect.js'
import { SETUP_LOCK } from './lock.js'

/**
 * The progress table, `schema_migrate.backfills`: one row per backfill. Each
 * batch updates its row in the batch's own transaction, so the rows a batch
 * changed and the key it reached commit together or not at all: a run killed
 * at any moment loses at most the batch it had open, and the next run
 * resumes after `last_key`.
 *
 * Watch a run from psql:
 *   SELECT name, rows_done, last_key, updated_at, finished_at FROM schema_migrate.backfills;
 */

export const PROGRESS_TABLE = 'backfills'

export interface Progress {
  readonly checksum: string
  /** The last primary key walked; `null` before the first batch. */
  readonly lastKey: Key | null
  readonly rowsDone: number
  readonly startedAt: Date
  readonly finishedAt: Date | null
}

const progressTable = () => sql.id(HISTORY_SCHEMA, PROGRESS_TABLE)

async function progressTableExists(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`
    SELECT to_regclass(${`${HISTORY_SCHEMA}.${PROGRESS_TABLE}`}) IS NOT NULL AS present`.execute(db)
  return rows[0]?.present === true
}

/**
 * Creates the progress table if needed. Two runners may start at once, and
 * concurrent `CREATE TABLE IF NOT EXISTS` can still collide, so creation
 * happens under a transaction-level advisory lock of the backfills' own
 * (never the migration lock: a backfill does not hold up `schema:apply`).
 * Looks first: `CREATE ... IF NOT EXISTS` checks the CREATE privilege even
 * when there is nothing to create.
 */
export async function ensureProgressTable(db: Kysely<unknown>): Promise<void> {
  if (await progressTableExists(db)) return
  await sql`BEGIN`.execute(db)
  try {
    await sql`SELECT pg_advisory_xact_lock(${SETUP_LOCK.classId}, ${SETUP_LOCK.objectId})`.execute(db)
    if (!(await progressTableExists(db))) {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(HISTORY_SCHEMA)}`.execute(db)
      await sql`CREATE TABLE IF NOT EXISTS ${progressTable()} (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        table_name text NOT NULL,
        key_columns text[] NOT NULL,
        last_key text[],
        rows_done bigint NOT NULL DEFAULT 0,
        batches bigint NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`.execute(db)
    }
    await sql`COMMIT`.execute(db)
  } catch (error) {
    await sql`ROLLBACK`.execute(db).catch(() => {})
    throw error
  }
}

export async function readProgress(db: Kysely<unknown>, name: string): Promise<Progress | null> {
  const { rows } = await sql<{ checksum: string; last_key: string[] | null; rows_done: string; started_at: Date; finished_at: Date | null }>`
    SELECT checksum, last_key, rows_done::text, started_at, finished_at FROM ${progressTable()} WHERE name = ${name}`.execute(db)
  const row = rows[0]
  if (!row) return null
  return { checksum: row.checksum, lastKey: row.last_key, rowsDone: Number(row.rows_done), startedAt: row.started_at, finishedAt: row.finished_at }
}

/** Starts the backfill from the beginning: a first run, or a re-run asked for with `--rerun`. */
export async function startProgress(db: Kysely<unknown>, target: BackfillTarget): Promise<void> {
  const { backfill } = target
  await sql`INSERT INTO ${progressTable()} (name, checksum, table_name, key_columns)
    VALUES (${backfill.name}, ${backfill.checksum}, ${`${backfill.table.schema}.${backfill.table.name}`}, ${[...target.key]})
    ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, table_name = EXCLUDED.table_name,
      key_columns = EXCLUDED.key_columns, last_key = NULL, rows_done = 0, batches = 0,
      started_at = now(), updated_at = now(), finished_at = NULL`.execute(db)
}

/**
 * Records a batch, inside the batch's own transaction (on its own, or as a
 * data-modifying part of the batch's statement). `reached` moves the resume
 * point; a catch-up batch behind it passes `null` and leaves it.
 */
export function recordBatch(name: string, reached: Key | null, rows: RawBuilder<unknown>): RawBuilder<unknown> {
  const lastKey = reached ? sql`${[...reached]}::text[]` : sql`last_key`
  return sql`UPDATE ${progressTable()}
     SET last_key = ${lastKey}, rows_done = rows_done + ${rows}, batches = batches + 1, updated_at = now()
   WHERE name = ${name}`
}

export async function finishProgress(db: Kysely<unknown>, name: string, reached: Key | null): Promise<void> {
  await sql`UPDATE ${progressTable()}
     SET last_key = ${reached ? [...reached] : null}::text[], finished_at = now(), updated_at = now()
   WHERE name = ${name}`.execute(db)
}
