/** `call_log` as production had it before migration 109, holding `rows` rows. */
export function pre109(rows: number): string {
  return `
  CREATE TABLE call_log (
    id bigserial PRIMARY KEY,
    call_sid text NOT NULL,
    from_number text,
    to_number text,
    status text NOT NULL DEFAULT 'queued',
    created_at timestamptz NOT NULL DEFAULT now()
  );
  INSERT INTO call_log (call_sid, from_number) SELECT 'CA' || g, '+1555' || g FROM generate_series(1, ${rows}) g;`
}

/** The columns migrations 109 and 110 add. */
export const NEW_COLUMNS = ['started_at', 'ended_at', 'duration_sec', 'summary_status'] as const

/** The seed's verification query: how many of the 109 columns exist. */
export const SEED_VERIFICATION_QUERY = `SELECT column_name
  FROM information_schema.columns
 WHERE table_name = 'call_log'
   AND column_name IN ('started_at','ended_at','duration_sec')`
