import pg from 'pg'

/**
 * Sessions on a test database, as an application or an operator would open
 * them: one-off queries, a session holding locks, and waiting for apply to
 * block on one.
 */

/** Runs `text` on a connection of its own and returns the rows. */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text)).rows
  } finally {
    await client.end()
  }
}

/** A session that holds `statement`'s locks in an open transaction until released. */
export async function holdLock(url: string, statement = 'SELECT * FROM call_log LIMIT 1') {
  const client = new pg.Client({ connectionString: url, application_name: 'app-long-reader' })
  await client.connect()
  await client.query('BEGIN')
  await client.query(statement)
  return {
    release: async () => {
      await client.query('COMMIT')
      await client.end()
    },
  }
}

/** The backend pid of schema:apply once one of its statements waits for a lock. */
export async function waitForBlockedApply(url: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const rows = await query<{ pid: number }>(
      url,
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'schema-migrate' AND wait_event_type = 'Lock'`,
    )
    if (rows[0]) return rows[0].pid
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('schema:apply never waited for a lock')
}
