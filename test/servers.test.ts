import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { serverUrl } from './support/database.js'
import { enabledServers, type ServerTarget } from './support/targets.js'

/** The test servers are the majors the suite claims to cover: the newest, and the oldest supported. */
const MAJOR: Record<ServerTarget, string> = { postgres: '18', postgres14: '14' }

describe.each(enabledServers())('the %s test server', (server) => {
  it(`runs PostgreSQL ${MAJOR[server]}, with UTF8`, async () => {
    const client = new pg.Client({ connectionString: serverUrl('postgres', server) })
    await client.connect()
    try {
      const { rows } = await client.query(`SELECT current_setting('server_version_num') AS version, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = 'postgres'`)
      expect(String(rows[0].version).slice(0, 2)).toBe(MAJOR[server])
      expect(rows[0].encoding).toBe('UTF8')
    } finally {
      await client.end()
    }
  })
})
