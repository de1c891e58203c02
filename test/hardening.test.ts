import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { PROJECT_MIGRATIONS, PROJECT_SCHEMA, REPO, runCli, startCli } from './support/cli.js'
import { createDatabase } from './support/database.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { useScratchDir } from './support/scratch.js'
import { startTcpProxy } from './support/tcp-proxy.js'
import { enabledTargets } from './support/targets.js'

/**
 * Bad input, hostile names, broken connections and missing privileges, each
 * through the CLI on a real server: a message that names the problem and the
 * fix, exit 1 (or the documented code), nothing half-applied, no success
 * wording, and no password anywhere in the output. Each test has its own
 * database, role and scratch files, so they run concurrently.
 */

const PASSWORD = 'test-password' // the test server's superuser password (see global-setup)
const SUCCESS_WORDING = /success|completed|✓|all good/i

const scratch = useScratchDir('hardening')

async function sqlOn(url: string, text: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

/** Every failed run: exit 1 unless told, the fix named, no success wording, no password. */
function expectCleanFailure(result: { code: number; stdout: string; stderr: string }, code = 1) {
  expect(result.code).toBe(code)
  expect(result.stderr).toMatch(/^fix: /m)
  expect(result.stdout + result.stderr).not.toMatch(SUCCESS_WORDING)
  expect(result.stdout + result.stderr).not.toContain(PASSWORD)
}

describe.concurrent('connections', () => {
  it('nothing listening: exit 1 naming ECONNREFUSED and the host to check', async () => {
    const port = await closedPort()
    const result = await runCli(['verify'], { env: { DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/app` } })
    expectCleanFailure(result)
    expect(result.stderr).toContain(`cannot connect to postgres://app:***@127.0.0.1:${port}/app: nothing is listening there (ECONNREFUSED)`)
  })

  it('a server that accepts and never answers: the connect timeout ends the wait within seconds', async () => {
    const sockets: net.Socket[] = []
    // Timed from the moment the tool's first connection arrives: the process's start-up is no part of the wait.
    let acceptedAt = Number.NaN
    const silent = net.createServer((socket) => {
      if (Number.isNaN(acceptedAt)) acceptedAt = performance.now()
      sockets.push(socket)
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    try {
      const result = await runCli(['apply'], {
        env: { NODE_ENV: 'production', DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/app`, SCHEMA_CONNECT_TIMEOUT: '2s' },
      })
      expectCleanFailure(result)
      expect(result.stderr).toMatch(/MIGRATION FAILED: \[connect\] cannot connect to postgres:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app: .*timeout/i)
      // The 2 s connect timeout, plus reporting and exiting on a busy machine.
      expect(performance.now() - acceptedAt).toBeLessThan(2_000 + 5_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  describe.runIf(enabledTargets().includes('postgres'))('on the test server', () => {
    it('a database that does not exist: exit 1, naming it', async () => {
      const url = new URL(await serverUrlFor('no_such_database'))
      const result = await runCli(['verify'], { env: { DATABASE_URL: url.href } })
      expectCleanFailure(result)
      expect(result.stderr).toContain('the database does not exist (SQLSTATE 3D000)')
      expect(result.stderr).toContain('fix: create the database first, or fix its name in DATABASE_URL')
    })

    it('sslmode passes through to node-postgres: sslmode=require against a server without TLS fails clearly', async () => {
      const database = await createDatabase()
      try {
        const result = await runCli(['verify'], { env: { DATABASE_URL: `${database.url}?sslmode=require` } })
        expectCleanFailure(result)
        expect(result.stderr).toContain('The server does not support SSL connections')
        const disabled = await runCli(['verify'], { env: { DATABASE_URL: `${database.url}?sslmode=disable` } })
        expect(disabled.code).toBe(2) // connected; the empty database lacks call_log
      } finally {
        await database.drop()
      }
    })

    it('the password comes from DATABASE_URL_FILE, and never shows', async () => {
      const database = await createDatabase()
      try {
        const secret = path.join(scratch(), 'database_url')
        await writeFile(secret, `${database.url}\n`)
        const result = await runCli(['verify', '--json'], { env: { DATABASE_URL_FILE: secret } })
        expect(result.code).toBe(2)
        expect(JSON.parse(result.stdout).target).toMatch(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/t_/)
        expect(result.stdout + result.stderr).not.toContain(PASSWORD)

        const both = await runCli(['verify'], { env: { DATABASE_URL_FILE: secret, DATABASE_URL: database.url } })
        expectCleanFailure(both)
        expect(both.stderr).toContain('both DATABASE_URL and DATABASE_URL_FILE are set')
      } finally {
        await database.drop()
      }
    })
  })
})

describe.runIf(enabledTargets().includes('postgres')).concurrent('privileges and server state', () => {
  it('a read-only database (as on a replica): exit 1 with SQLSTATE 25006 and the fix, nothing applied', async () => {
    const database = await createDatabase()
    try {
      await sqlOn(database.url, pre109(10))
      await sqlOn(database.url, `ALTER DATABASE ${database.name} SET default_transaction_read_only = on`)
      const result = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } })
      expectCleanFailure(result)
      expect(result.stderr).toContain('SQLSTATE 25006')
      expect(result.stderr).toMatch(/^MIGRATION FAILED/m)
      expect(await sqlOn(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await database.drop()
    }
  })

  it('a role that may not alter the table: exit 1 with SQLSTATE 42501, naming the step', async () => {
    const database = await createDatabase()
    const role = `app_${database.name}`
    try {
      await sqlOn(database.url, pre109(10))
      await sqlOn(database.url, `CREATE ROLE ${role} LOGIN PASSWORD 'role-secret-1'; GRANT ALL ON SCHEMA public TO ${role}; GRANT CREATE ON DATABASE ${database.name} TO ${role}`)
      const url = new URL(database.url)
      url.username = role
      url.password = 'role-secret-1'
      const result = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: url.href } })
      expectCleanFailure(result)
      expect(result.stderr).toMatch(/MIGRATION FAILED: \[apply\] 0002_call_log_add_started_at_ended_at_duration_sec locking table public\.call_log before its steps failed: permission denied for table call_log \(SQLSTATE 42501\)/)
      expect(result.stderr).toContain('fix: only the owner of call_log may alter it: run the tool as that role')
      expect(result.stdout + result.stderr).not.toContain('role-secret-1')
      expect(await sqlOn(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await database.drop()
      await sqlOn(await serverUrlFor('postgres'), `DROP ROLE IF EXISTS ${role}`)
    }
  })

  it('a session set-up the server refuses after connecting: exit 1 saying so, with the fix for that failure, not for a connection', async () => {
    const database = await createDatabase()
    const role = `setup_${database.name}`
    try {
      await sqlOn(database.url, pre109(10))
      // The set-up reads pg_settings to skip what an older server lacks; a role that may not read it is refused there.
      await sqlOn(database.url, `CREATE ROLE ${role} LOGIN PASSWORD 'role-secret-2'; REVOKE SELECT ON pg_catalog.pg_settings FROM PUBLIC`)
      const url = new URL(database.url)
      url.username = role
      url.password = 'role-secret-2'
      for (const command of ['apply', 'verify']) {
        const result = await runCli([command], { env: { NODE_ENV: 'production', DATABASE_URL: url.href } })
        expectCleanFailure(result)
        expect(result.stderr).toMatch(/connected to postgres:\/\/setup_\w+:\*\*\*@[^:]+:\d+\/\w+, but setting up the session failed: permission denied for view pg_settings \(SQLSTATE 42501\)/)
        expect(result.stderr).not.toContain('check the host and port')
        expect(result.stdout + result.stderr).not.toContain('role-secret-2')
      }
      expect(await sqlOn(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(0)
    } finally {
      await database.drop()
      await sqlOn(await serverUrlFor('postgres'), `DROP ROLE IF EXISTS ${role}`)
    }
  })

  it('the connection dropped during COMMIT: exit 1, and the next run re-introspects and converges', async () => {
    const database = await createDatabase()
    const proxy = await startTcpProxy(new URL(database.url), { dropOnCommit: true })
    try {
      await sqlOn(database.url, pre109(10))
      const url = new URL(database.url)
      url.port = String(proxy.port)
      const result = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: url.href } })
      expectCleanFailure(result)
      expect(result.stderr).toMatch(/MIGRATION FAILED: \[apply\] 0001_create_call_log COMMIT failed/)
      expect(proxy.dropped()).toBe(1)

      const rerun = await runCli(['apply'], { env: { NODE_ENV: 'production', DATABASE_URL: database.url } })
      expect(rerun.stderr).toBe('')
      expect(rerun.code).toBe(0)
      expect(await sqlOn(database.url, SEED_VERIFICATION_QUERY)).toHaveLength(3)
    } finally {
      proxy.close()
      await database.drop()
    }
  })
})

async function serverUrlFor(database: string): Promise<string> {
  const { serverUrl } = await import('./support/database.js')
  return serverUrl(database)
}

async function closedPort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as net.AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}


describe.concurrent('schema input', () => {
  const dsl = path.join(REPO, 'src/dsl/index.js')

  it('a schema module with a syntax error: exit 1 naming the file', async () => {
    const file = path.join(scratch(), 'syntax-error.ts')
    await writeFile(file, `import { c, table, defineSchema } from '${dsl}'\nexport const schema = defineSchema(table('t', { id: c.integer( }))\n`)
    const result = await runCli(['plan', '--schema', file, '--dry-run'], { env: { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/x' } })
    expectCleanFailure(result)
    expect(result.stderr).toContain('syntax-error.ts failed to load')
  })

  it('an invalid schema is reported before connecting: every problem, with file, table and column', async () => {
    const file = path.join(scratch(), 'invalid.ts')
    await writeFile(
      file,
      `import { c, table, defineSchema } from '${dsl}'
export const schema = defineSchema(
  table('calls', { id: c.integer(), n: c.type('int; DROP TABLE calls') }),
  table('calls', { id: c.integer() }),
  table('${'x'.repeat(64)}', { id: c.integer() }),
)\n`,
    )
    // The URL points nowhere: a connection attempt would fail with ECONNREFUSED instead.
    const result = await runCli(['apply', '--schema', file], { env: { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/x' } })
    expectCleanFailure(result)
    expect(result.stderr).toMatch(/table calls \(.*invalid\.ts:3\), column n: "int; DROP TABLE calls" is not a type name/)
    expect(result.stderr).toMatch(/duplicate table calls: declared at table calls \(.*invalid\.ts:4\)/)
    expect(result.stderr).toContain('is 64 bytes; PostgreSQL keeps only 63')
    expect(result.stderr).not.toContain('ECONNREFUSED')
  })

  it.runIf(enabledTargets().includes('postgres'))('a default that smuggles a second statement is refused when the schema loads, and nothing is written or run', async () => {
    const database = await createDatabase()
    try {
      await sqlOn(database.url, pre109(10))
      const file = path.join(scratch(), 'smuggling.ts')
      await writeFile(
        file,
        `import { c, table, defineSchema } from '${dsl}'
import { callLog } from '${path.join(REPO, 'schema/call-log.js')}'
export const schema = defineSchema(table('call_log', {
  ...callLog.columns,
  note: c.text().defaultSql("'x'; DROP TABLE call_log; --"),
}))\n`,
      )
      const dir = await mkdtemp(path.join(scratch(), 'smuggling-'))
      const env = { NODE_ENV: 'production', DATABASE_URL: database.url }
      // A declared expression is written into DDL as it is, so it must be one expression; apply's extended protocol is the second wall.
      const result = await runCli(['plan', '--schema', file, '--migrations', dir], { env })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`column note: .defaultSql("'x'; DROP TABLE call_log; --") is not one SQL expression`)
      expect(await readdir(dir)).toEqual([])
      expect(await sqlOn(database.url, 'SELECT count(*)::int AS n FROM call_log')).toEqual([{ n: 10 }])
    } finally {
      await database.drop()
    }
  })
})

describe.concurrent('files', () => {
  const offline = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:pw-unused@127.0.0.1:1/x' }

  it('generated-migrations/ that cannot be read: exit 1 naming it', async () => {
    const notADirectory = path.join(scratch(), 'not-a-directory')
    await writeFile(notADirectory, '')
    const result = await runCli(['apply', '--migrations', notADirectory], { env: offline })
    expectCleanFailure(result)
    expect(result.stderr).toMatch(/MIGRATION FAILED: \[migrations\] cannot read .*not-a-directory: ENOTDIR/)
  })

  it('a migration file that fails to load: exit 1 naming it', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'broken-'))
    await cp(PROJECT_MIGRATIONS, dir, { recursive: true })
    await writeFile(path.join(dir, '0005_broken.ts'), 'export const steps = [\n')
    const result = await runCli(['apply', '--migrations', dir], { env: offline })
    expectCleanFailure(result)
    expect(result.stderr).toContain('MIGRATION FAILED: [migrations] migration 0005_broken failed to load')
  })

  it('a file in generated-migrations/ that is not a migration: exit 1 naming it', async () => {
    const dir = await mkdtemp(path.join(scratch(), 'stray-'))
    await writeFile(path.join(dir, 'helpers.ts'), 'export {}\n')
    const result = await runCli(['apply', '--migrations', dir], { env: offline })
    expectCleanFailure(result)
    expect(result.stderr).toContain('holds files that are not generated migrations: helpers.ts')
  })

  it.runIf(enabledTargets().includes('postgres'))('an applied migration deleted: exit 1 naming it, from the chain or from the history', async () => {
    const database = await createDatabase()
    try {
      const dir = await mkdtemp(path.join(scratch(), 'deleted-'))
      await cp(PROJECT_MIGRATIONS, dir, { recursive: true })
      const env = { NODE_ENV: 'production', DATABASE_URL: database.url }
      expect((await runCli(['apply', '--migrations', dir], { env })).code).toBe(0)
      // The newest applied file: nothing follows it, so the history names it.
      await rm(path.join(dir, '0004_call_log_index_call_sid_key_created_at_idx.ts'))
      const newest = await runCli(['apply', '--migrations', dir], { env })
      expectCleanFailure(newest)
      expect(newest.stderr).toContain('applied migration 0004_call_log_index_call_sid_key_created_at_idx is missing from generated-migrations/')
      // An older one: the file after it records what it follows.
      await cp(path.join(PROJECT_MIGRATIONS, '0004_call_log_index_call_sid_key_created_at_idx.ts'), path.join(dir, '0004_call_log_index_call_sid_key_created_at_idx.ts'))
      await rm(path.join(dir, '0003_call_log_add_summary_status.ts'))
      const older = await runCli(['apply', '--migrations', dir], { env })
      expectCleanFailure(older)
      expect(older.stderr).toContain(
        'MIGRATION FAILED: [migrations] 0004_call_log_index_call_sid_key_created_at_idx was written after 0003_call_log_add_summary_status, which is missing: deleted or renamed',
      )
    } finally {
      await database.drop()
    }
  })

  it('.pglite/ that cannot be created: exit 1 naming it and the alternative', async () => {
    const cwd = await mkdtemp(path.join(scratch(), 'pglite-'))
    await writeFile(path.join(cwd, '.pglite'), 'a file where the data folder should be')
    const result = await runCli(['verify', '--schema', PROJECT_SCHEMA], { cwd })
    expectCleanFailure(result)
    expect(result.stderr).toMatch(/cannot open the embedded PGlite database in \.pglite\/: EEXIST/)
    expect(result.stderr).toContain('or set DATABASE_URL to use a PostgreSQL server')
  })

  it.runIf(enabledTargets().includes('postgres'))('two schema:plan runs writing at once: one file, never two', async () => {
    const database = await createDatabase()
    try {
      const dir = await mkdtemp(path.join(scratch(), 'racing-'))
      const env = { DATABASE_URL: database.url }
      const runs = await Promise.all([1, 2, 3].map(() => startCli(['plan', '--migrations', dir], { env }).result))
      expect(await readdir(dir)).toEqual(['0001_create_call_log.ts'])
      expect(runs.filter((r) => r.stdout.includes('Wrote'))).toHaveLength(1)
      for (const run of runs.filter((r) => !r.stdout.includes('Wrote'))) {
        // A run that lost the race either saw the winner's file or was refused the write.
        expect(run.stdout + run.stderr).toMatch(/Not written: 1 generated migration is not applied|0001_create_call_log\.ts already exists: another schema:plan wrote it first/)
      }
    } finally {
      await database.drop()
    }
  })
})
