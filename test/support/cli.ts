import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const PROJECT_SCHEMA = path.join(REPO, 'schema/index.ts')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the CLI as `npm run schema:*` does (`tsx src/cli/bin.ts`), in a child
 * process with its own environment: what a user or the migrate container gets.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, NODE_ENV: undefined }
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  return new Promise((resolve) => {
    execFile(
      path.join(REPO, 'node_modules/.bin/tsx'),
      [path.join(REPO, 'src/cli/bin.ts'), ...args],
      { cwd: options.cwd ?? REPO, env: env as NodeJS.ProcessEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
