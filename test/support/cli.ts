import { type ChildProcess, execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const PROJECT_SCHEMA = path.join(REPO, 'schema/index.ts')
export const PROJECT_MIGRATIONS = path.join(REPO, 'generated-migrations')

export interface CliResult {
  readonly code: number
  /** The signal that ended the process, if one did. */
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

export interface CliOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
}

/**
 * Starts the CLI exactly as the npm scripts do (`node scripts/schema.mjs`,
 * which runs the bundle, rebuilt when a source changed), in a child process
 * with its own environment: what a user gets. `DATABASE_URL` and `NODE_ENV`
 * are cleared unless given.
 */
export function startCli(args: readonly string[], options: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, NODE_ENV: undefined }
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const started = performance.now()
  let child!: ChildProcess
  const result = new Promise<CliResult>((resolve) => {
    child = execFile(
      process.execPath,
      [path.join(REPO, 'scripts/schema.mjs'), ...args],
      { cwd: options.cwd ?? REPO, env: env as NodeJS.ProcessEnv, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, signal: (error?.signal as NodeJS.Signals | undefined) ?? null, stdout, stderr, ms: performance.now() - started })
      },
    )
  })
  return { child, result }
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result
}

/**
 * The CLI's `main`, in this process, as `bin.ts` calls it: for tests that
 * need no process of their own (exit on a signal, kill -9 and what reaches a
 * real stdout and stderr do), sparing each run a Node start-up and the
 * loading of every module. Settings go as flags, since the environment is
 * shared by concurrent tests. `terminal` gives it a status line, as `bin.ts`
 * does when stderr is a terminal; what it draws there comes back in `status`.
 */
export async function runInProcess(args: readonly string[], { terminal = false } = {}): Promise<CliResult & { status: string[] }> {
  const { main } = await import('../../src/cli/main.js')
  let stdout = ''
  let stderr = ''
  const status: string[] = []
  const started = performance.now()
  const code = await main(
    args,
    {
      out: (text) => void (stdout += `${text}\n`),
      err: (text) => void (stderr += `${text}\n`),
      ...(terminal ? { status: (text: string) => void status.push(text) } : {}),
    },
    { signal: new AbortController().signal, arm: () => {} },
  )
  return { code, signal: null, stdout, stderr, ms: performance.now() - started, status }
}
