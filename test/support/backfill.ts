import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { REPO } from './cli.js'
import { query } from './sessions.js'

/**
 * `call_log` as it is once migrations 109 and 110 are applied, with rows the
 * backfill must fill and rows it must leave alone, and a trigger that records
 * every row any UPDATE changes, and which session changed it: what "exactly
 * once" is checked against.
 */

/** The rows of `callLogRows(n)` that need the backfill, and the value each must get. */
export const EXPECTED = `
  SELECT id, CASE WHEN id % 7 = 0 THEN -1 WHEN id % 10 = 0 THEN NULL ELSE (id % 3600)::integer END AS duration_sec
    FROM call_log`

/**
 * `rows` calls with ids 1..rows (or only the even ids up to 2 x rows with
 * `evenIds`): every 10th has no `ended_at` (nothing to fill), every 7th a
 * `duration_sec` of -1 already (to be left alone), the rest a duration of
 * `id % 3600` seconds and 0.7 s, so whole seconds are `id % 3600`.
 */
export function callLogRows(rows: number, { evenIds = false } = {}): string {
  const id = evenIds ? 'g * 2' : 'g'
  return `
  CREATE TABLE call_log (
    id bigserial PRIMARY KEY, call_sid text NOT NULL, from_number text, to_number text,
    status text NOT NULL DEFAULT 'queued', created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz, ended_at timestamptz, duration_sec integer, summary_status text);
  INSERT INTO call_log (id, call_sid, started_at, ended_at, duration_sec)
    SELECT ${id}, 'CA' || ${id}, timestamptz '2024-01-01' + ${id} * interval '1 second',
           CASE WHEN ${id} % 10 = 0 THEN NULL
                ELSE timestamptz '2024-01-01' + ${id} * interval '1 second' + (${id} % 3600) * interval '1 second' + interval '700 ms' END,
           CASE WHEN ${id} % 7 = 0 THEN -1 END
      FROM generate_series(1, ${rows}) g;
  SELECT setval('call_log_id_seq', ${evenIds ? rows * 2 : rows});
  CREATE TABLE backfill_audit (id bigint NOT NULL, by text NOT NULL);
  CREATE FUNCTION audit_updates() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO backfill_audit SELECT id, current_setting('application_name') FROM changed; RETURN NULL; END $$;
  CREATE TRIGGER audit_updates AFTER UPDATE ON call_log REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION audit_updates();`
}

/** The backfill's `where`, as schema/ declares it. */
export const NEEDS_IT = 'duration_sec IS NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL'

export interface Outcome {
  /** Rows whose duration_sec differs from `EXPECTED`. */
  readonly wrong: number
  /** Rows that still need it. */
  readonly left: number
  /** Row updates by schema:backfill the audit trigger saw, and the distinct rows among them. */
  readonly updates: number
  readonly rowsUpdated: number
  /** Rows that needed filling at the start: what `updates` must equal. */
  readonly needed: number
}

/** How the table ended up, for rows inserted by the fixture (`EXPECTED` applies to them). */
export async function outcomeOf(url: string, needed: number): Promise<Outcome> {
  const [row] = await query<{ wrong: number; left: number; updates: number; rows_updated: number }>(
    url,
    `SELECT (SELECT count(*)::int FROM call_log c JOIN (${EXPECTED}) e USING (id)
              WHERE c.call_sid LIKE 'CA%' AND c.duration_sec IS DISTINCT FROM e.duration_sec) AS wrong,
            (SELECT count(*)::int FROM call_log WHERE ${NEEDS_IT}) AS left,
            (SELECT count(*)::int FROM backfill_audit WHERE by = 'schema-backfill') AS updates,
            (SELECT count(DISTINCT id)::int FROM backfill_audit WHERE by = 'schema-backfill') AS rows_updated`,
  )
  return { wrong: row?.wrong ?? -1, left: row?.left ?? -1, updates: row?.updates ?? -1, rowsUpdated: row?.rows_updated ?? -1, needed }
}

/** Rows of `callLogRows(rows)` (ids 1..rows) that need filling. */
export function neededIn(rows: number): number {
  let n = 0
  for (let id = 1; id <= rows; id++) if (id % 7 !== 0 && id % 10 !== 0) n++
  return n
}

export interface ProgressRow {
  readonly last_key: string[] | null
  readonly rows_done: number
  readonly finished_at: Date | null
  readonly checksum: string
}

/** The backfill's progress row, or `null` before there is one. */
export async function progressOf(url: string, name = 'call_log_duration_sec'): Promise<ProgressRow | null> {
  const rows = await query<ProgressRow>(
    url,
    `SELECT last_key, rows_done::int AS rows_done, finished_at, checksum FROM schema_migrate.backfills WHERE name = '${name}'`,
  ).catch(() => [])
  return rows[0] ?? null
}

/** Polls until `condition` holds. */
export async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting until ${what}`)
}

/** Resolves once a batch has committed. */
export function midRun(url: string): Promise<void> {
  return eventually(async () => ((await progressOf(url))?.rows_done ?? 0) > 0, 'a batch committed')
}

/** A schema module in `dir` declaring call_log, with the project's indexes if asked, and the backfills whose source `backfills` holds. */
export async function schemaWith(
  dir: string,
  file: string,
  backfills: string,
  extraColumns = '',
  { projectIndexes = false } = {},
): Promise<string> {
  // The project's migrations (0004) add call_sid's unique constraint and the created_at index; the
  // tables these tests create by hand have neither.
  const unique = projectIndexes ? '.unique()' : ''
  const indexes = projectIndexes ? `, { indexes: [index('created_at')] }` : ''
  const target = path.join(dir, file)
  await writeFile(
    target,
    `import { backfill, c, defineSchema, index, table } from '${path.join(REPO, 'src/dsl/index.js')}'
export const callLog = table('call_log', {
  id: c.bigserial().primaryKey(), call_sid: c.text().notNull()${unique}, from_number: c.text(), to_number: c.text(),
  status: c.text().notNull().default('queued'), created_at: c.timestamptz().notNull().defaultSql('now()'),
  started_at: c.timestamptz(), ended_at: c.timestamptz(), duration_sec: c.integer(), summary_status: c.text(),${extraColumns}
}${indexes})
export const schema = defineSchema(callLog)
export const backfills = [${backfills}]
`,
  )
  return target
}
