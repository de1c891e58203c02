import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * Used test databases, emptied for the next test instead of dropped.
 *
 * Under concurrent tests, CREATE DATABASE costs PostgreSQL 18 about a third
 * of a second (it copies and WAL-logs the whole template) and was the test
 * servers' largest cost; emptying a database a test used takes a few
 * milliseconds. A database is reused only when, once emptied, it is exactly
 * what a new one is (`DatabaseState`); otherwise it is dropped. The spares
 * are listed in a table on the server itself, so every test file's process
 * shares them and two never claim the same one.
 */

/** In each test server's `postgres` database: the spare databases, by name. */
export const SPARE_DATABASES = 'test_spare_databases'

/** Drops every schema but the system's (temporary schemas are the sessions' own). */
export const DROP_EVERY_SCHEMA = `
  DO $$ DECLARE s text; BEGIN
    FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg_temp%'
               AND nspname NOT LIKE 'pg_toast_temp%'
    LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP;
  END $$`

/** What a new database on a server holds, and how to make its `public` schema again. */
export interface NewDatabaseState {
  /** Everything a test can change, as comparable text (`stateOf`). */
  readonly state: string
  /** Makes `public` again as a new database has it: owner, then each grant. */
  readonly recreatePublic: string
}

/** For the global setup: creates the spare list and reads a new database's state, from a throwaway database. */
export async function prepareSpareDatabases(serverUrl: string): Promise<NewDatabaseState> {
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` })
  await admin.connect()
  const name = `t_${randomBytes(6).toString('hex')}`
  try {
    await admin.query(`CREATE TABLE ${SPARE_DATABASES} (name text PRIMARY KEY)`)
    await admin.query(`CREATE DATABASE ${name}`)
    const client = new pg.Client({ connectionString: `${serverUrl}/${name}` })
    await client.connect()
    try {
      const { rows } = await client.query<{ owner: string; grants: string[] }>(`
        SELECT pg_get_userbyid(n.nspowner) AS owner,
               coalesce(array_agg(format('GRANT %s ON SCHEMA public TO %s', a.privilege_type,
                        CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END))
                        FILTER (WHERE a.grantee <> n.nspowner), '{}') AS grants
        FROM pg_namespace n LEFT JOIN LATERAL aclexplode(n.nspacl) a ON true
        WHERE n.nspname = 'public' GROUP BY n.nspowner`)
      const publicSchema = rows[0]
      if (!publicSchema) throw new Error('a new database has no public schema')
      const recreatePublic = [`CREATE SCHEMA public AUTHORIZATION ${pg.escapeIdentifier(publicSchema.owner)}`, ...publicSchema.grants].join(';\n')
      return { state: await stateOf(client), recreatePublic }
    } finally {
      await client.end()
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

/**
 * Empties a used database and says whether it is now exactly a new one:
 * every schema dropped, `public` made again, and then everything else a test
 * can leave behind (database settings, owner and grants, extensions, event
 * triggers, publications, default privileges, sessions still open on it)
 * compared with a new database's.
 */
export async function resetDatabase(url: string, fresh: NewDatabaseState): Promise<boolean> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`${DROP_EVERY_SCHEMA};\n${fresh.recreatePublic}`)
    // A session the test closed can still be on its way out for a moment.
    for (let attempt = 0; attempt < 10; attempt++) {
      if ((await stateOf(client)) === fresh.state) return true
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return false
  } finally {
    await client.end()
  }
}

/** Everything of a database a test can change, as one comparable text; not its name. */
async function stateOf(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ state: unknown }>(`
    SELECT json_build_array(
      (SELECT json_agg(json_build_array(nspname, pg_get_userbyid(nspowner), nspacl::text) ORDER BY nspname) FROM pg_namespace
        WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'),
      (SELECT json_agg(extname ORDER BY extname) FROM pg_extension),
      (SELECT json_build_array(pg_get_userbyid(datdba), datacl::text, datconnlimit, datallowconn) FROM pg_database
        WHERE datname = current_database()),
      (SELECT json_agg(json_build_array(setrole, setconfig)) FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
      (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()),
      (SELECT count(*) FROM pg_event_trigger), (SELECT count(*) FROM pg_publication),
      (SELECT count(*) FROM pg_default_acl), (SELECT count(*) FROM pg_foreign_server),
      (SELECT count(*) FROM pg_language), (SELECT count(*) FROM pg_largeobject_metadata)
    ) AS state`)
  return JSON.stringify(rows[0]?.state)
}
