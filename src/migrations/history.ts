import { type Kysely, sql } from 'kysely'
import type { GeneratedMigration } from './migration.js'

/**
 * The history table: one row per applied migration, with the checksum of the
 * steps that ran. It lives in its own PostgreSQL schema, outside anything
 * `schema/` declares, so the diff never sees it.
 */

export const HISTORY_SCHEMA = 'schema_migrate'
export const HISTORY_TABLE = 'applied_migrations'

export interface AppliedMigration {
  readonly name: string
  readonly checksum: string
}

const historyTable = () => sql.id(HISTORY_SCHEMA, HISTORY_TABLE)

/** Applied migrations in order; none when the table does not exist yet (read-only: never creates it). */
export async function readHistory(db: Kysely<unknown>): Promise<AppliedMigration[]> {
  const { rows: exists } = await sql<{ present: boolean }>`
    SELECT to_regclass(${`${HISTORY_SCHEMA}.${HISTORY_TABLE}`}) IS NOT NULL AS present`.execute(db)
  if (!exists[0]?.present) return []
  const { rows } = await sql<AppliedMigration>`SELECT name, checksum FROM ${historyTable()} ORDER BY name`.execute(db)
  return rows
}

/**
 * Creates the history table if needed. Runs under the migration lock, so two
 * runners never race on it. Looks first: `CREATE ... IF NOT EXISTS` checks the
 * CREATE privilege even when there is nothing to create, which a role that
 * owns the tables but may not create in the database would fail.
 */
export async function ensureHistory(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ present: boolean }>`
    SELECT to_regclass(${`${HISTORY_SCHEMA}.${HISTORY_TABLE}`}) IS NOT NULL AS present`.execute(db)
  if (rows[0]?.present) return
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(HISTORY_SCHEMA)}`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS ${historyTable()} (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    schema_hash text NOT NULL,
    steps integer NOT NULL,
    duration_ms integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db)
}

/** Records `migration` as applied; called inside the migration's own transaction, so both commit or neither. */
export async function recordApplied(db: Kysely<unknown>, migration: GeneratedMigration, durationMs: number): Promise<void> {
  await sql`INSERT INTO ${historyTable()} (name, checksum, schema_hash, steps, duration_ms)
    VALUES (${migration.name}, ${migration.checksum}, ${migration.schemaHash}, ${migration.steps.length}, ${Math.round(durationMs)})`.execute(db)
}
