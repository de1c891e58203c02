import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO, runCli } from './support/cli.js'

/**
 * `npm run schema:*` runs `scripts/schema.mjs`: the command line bundled with
 * esbuild, rebuilt when a source changed. It must behave exactly as the
 * source does (the rest of the suite runs the source through tsx).
 */

function runScript(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.DATABASE_URL
  delete env.NODE_ENV
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'scripts/schema.mjs'), ...args], { cwd: REPO, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}

describe.concurrent('npm run schema:* (scripts/schema.mjs)', () => {
  it('every schema script runs scripts/schema.mjs with its command', async () => {
    const { scripts } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    for (const command of ['plan', 'apply', 'verify', 'check', 'backfill']) {
      expect(scripts[`schema:${command}`]).toBe(`node scripts/schema.mjs ${command}`)
    }
  })

  it('prints, fails and exits as the source does: usage, an unknown command, a schema module that does not exist', async () => {
    for (const args of [['--help'], ['migrate'], ['verify', '--schema', 'schema/missing.ts']]) {
      const [bundled, source] = await Promise.all([runScript(args), runCli(args)])
      expect({ args, ...bundled }).toEqual({ args, code: source.code, stdout: source.stdout, stderr: source.stderr })
    }
    const missing = await runScript(['verify', '--schema', 'schema/missing.ts'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('schema module schema/missing.ts does not exist')
  })

  it('records what the bundle was built from, so that a change to any of it rebuilds the bundle', async () => {
    await runScript(['--help'])
    const current = JSON.parse(await readFile(path.join(REPO, 'node_modules/.cache/kysely-schema-migrate/current.json'), 'utf8')) as {
      inputs: Record<string, string>
    }
    expect(Object.keys(current.inputs)).toEqual(expect.arrayContaining(['src/cli/bin.ts', 'src/cli/main.ts', 'src/settings.ts']))
  })
})
