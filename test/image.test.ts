import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from './support/cli.js'
import { dockerfileCmd, dockerfileEnv, dockerfileRuns } from './support/compose.js'
import { createDatabase } from './support/database.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { enabledTargets } from './support/targets.js'

/**
 * The migrate image without Docker: compose/Dockerfile's own build command
 * compiles the project, and its own CMD runs in a folder laid out as the
 * image's /app, with only the production dependency tree `npm ci
 * --omit=dev` installs. What the image runs is what this test runs.
 */

const run = promisify(execFile)
let app: string

beforeAll(async () => {
  const runs = await dockerfileRuns()
  expect(runs).toEqual(['npm ci --ignore-scripts', 'npm run build', 'npm ci --omit=dev --ignore-scripts'])
  // The installs are npm's own; the build is ours, and runs here exactly as in the image.
  await run('npm', ['run', 'build'], { cwd: REPO })

  await mkdir(path.join(REPO, '.tmp'), { recursive: true })
  app = await mkdtemp(path.join(REPO, '.tmp', 'image-'))
  await cp(path.join(REPO, 'dist'), path.join(app, 'dist'), { recursive: true })
  await cp(path.join(REPO, 'package.json'), path.join(app, 'package.json'))
  // The production dependency tree, as `npm ci --omit=dev` would install it.
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO })
  for (const dir of stdout.split('\n').filter((line) => line.includes(`${path.sep}node_modules${path.sep}`))) {
    await cp(dir, path.join(app, path.relative(REPO, dir)), { recursive: true })
  }
}, 180_000)

afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true })
})

/** The image's CMD with the image's ENV, plus what compose would pass. */
async function runImage(env: Record<string, string>) {
  const [command, ...args] = await dockerfileCmd()
  const imageEnv = await dockerfileEnv()
  expect(imageEnv.NODE_ENV).toBe('production')
  return run(command as string, args, { cwd: app, env: { PATH: process.env.PATH ?? '', ...imageEnv, ...env } }).then(
      (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
}

describe('the migrate image', () => {
  it('ships no development dependency: no TypeScript, tsx, ts-morph or PGlite', async () => {
    const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO })
    expect(stdout).not.toMatch(/node_modules\/(typescript|tsx|ts-morph|esbuild|@electric-sql\/pglite)(\n|$)/)
  })

  it('without DATABASE_URL it refuses, exit 1', async () => {
    const result = await runImage({})
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('DATABASE_URL is not set and NODE_ENV=production')
  })

  it.runIf(enabledTargets().includes('postgres'))('its CMD applies the migrations to the pre-109 call_log and verifies', async () => {
    const database = await createDatabase()
    try {
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      await client.query(pre109(100))
      await client.end()

      const result = await runImage({ DATABASE_URL: database.url })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/Applied 4 migrations \(8 steps\)/)

      const check = new pg.Client({ connectionString: database.url })
      await check.connect()
      expect((await check.query(SEED_VERIFICATION_QUERY)).rows).toHaveLength(3)
      await check.end()
    } finally {
      await database.drop()
    }
  })
})
