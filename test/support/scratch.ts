import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { REPO } from './cli.js'

/**
 * A scratch folder for one test file, removed afterwards. It lives inside the
 * repository (`.tmp/`, git-ignored) so that a CLI started there resolves
 * `tsx` (`node --import tsx` looks from the working directory). Generated
 * migrations need no such help: they get `kysely` from the application
 * wherever they are (`test/generated-migrations.test.ts`).
 */
export function useScratchDir(prefix: string): () => string {
  let dir: string | undefined
  beforeAll(async () => {
    await mkdir(path.join(REPO, '.tmp'), { recursive: true })
    dir = await mkdtemp(path.join(REPO, '.tmp', `${prefix}-`))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return () => {
    if (!dir) throw new Error('the scratch folder exists only inside tests')
    return dir
  }
}
