import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { REPO } from './cli.js'

/**
 * A scratch folder for one test file, removed afterwards. It lives inside the
 * repository (`.tmp/`, git-ignored) so that generated migrations written there
 * resolve `kysely` and the CLI resolves `tsx`, as they do in a project.
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
