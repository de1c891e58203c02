import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './ports.js'

/**
 * A real PgBouncer in front of the test server, as production databases are
 * often reached. npm has no PgBouncer, so it comes from Debian's package: found
 * on the machine, or installed with apt-get when running as root. Where
 * neither works, `findPgBouncer` says why, and the tests that need it are
 * skipped with that reason printed.
 */

const run = promisify(execFile)

export type PoolMode = 'session' | 'transaction' | 'statement'

export interface PgBouncer {
  /** `postgres://user:password@127.0.0.1:port` of the pooler; append `/database`. */
  readonly baseUrl: string
  stop(): Promise<void>
}

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']

/** The pgbouncer binary, installing Debian's package if needed and allowed; or why there is none. */
export async function findPgBouncer(): Promise<{ binary: string } | { missing: string }> {
  const found = () => CANDIDATES.find((candidate) => existsSync(candidate))
  const present = found()
  if (present) return { binary: present }
  if (process.getuid?.() !== 0) return { missing: 'pgbouncer is not installed and installing it needs root (apt-get install pgbouncer)' }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    await run('apt-get', ['install', '-y', '-qq', 'pgbouncer'], { env, timeout: 120_000 }).catch(async () => {
      await run('apt-get', ['update', '-qq'], { env, timeout: 120_000 })
      await run('apt-get', ['install', '-y', '-qq', 'pgbouncer'], { env, timeout: 120_000 })
    })
  } catch (error) {
    return { missing: `apt-get install pgbouncer failed: ${(error as Error).message.split('\n')[0]}` }
  }
  const installed = found()
  return installed ? { binary: installed } : { missing: 'apt-get install pgbouncer left no pgbouncer binary' }
}

/**
 * Starts PgBouncer in `mode` in front of the server at `serverUrl`
 * (`postgres://user:password@host:port`), for every database on it.
 */
export async function startPgBouncer(binary: string, serverUrl: string, mode: PoolMode): Promise<PgBouncer> {
  const server = new URL(serverUrl)
  const dir = await mkdtemp(path.join(os.tmpdir(), `pgbouncer-${mode}-`))
  const port = await freePort()
  const user = decodeURIComponent(server.username)
  const password = decodeURIComponent(server.password)
  await writeFile(path.join(dir, 'userlist.txt'), `"${user}" "${password}"\n`)
  await writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      `pool_mode = ${mode}`,
      'default_pool_size = 4',
      'max_client_conn = 200',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  )
  // PgBouncer refuses to run as root: as root, it runs as the server's own unprivileged user.
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    await chmod(dir, 0o755)
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const args = [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')]
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' })
  await waitForPort(port, child, dir)
  return {
    baseUrl: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function waitForPort(port: number, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const log = await readFile(path.join(dir, 'pgbouncer.log'), 'utf8').catch(() => '(no log)')
  throw new Error(`pgbouncer did not start listening on ${port}:\n${log}`)
}
