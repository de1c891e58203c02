#!/usr/bin/env node
/**
 * What `npm run schema:<command>` runs: the command line bundled by
 * `scripts/bundle-cli.mjs`, rebuilt first when any file it was built from has
 * changed since (or on a fresh clone, where there is none yet). Running the
 * bundle instead of `src/cli/bin.ts` through tsx spares each run compiling
 * and resolving every module one by one.
 *
 * The bundle lives in node_modules/.cache (it goes away with node_modules).
 * A rebuild writes a new folder and then switches `current.json` to it in one
 * rename, so two runs at once never read a half-written bundle. Where esbuild
 * cannot build (it failed, or is not installed), the source runs through tsx,
 * as before: the command still works, only slower.
 */
import { readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CACHE = path.join(REPO, 'node_modules/.cache/kysely-schema-migrate')
const CURRENT = path.join(CACHE, 'current.json')
/** An older bundle folder is removed once no run can still be loading chunks from it. */
const STALE_AFTER_MS = 10 * 60_000

const bundle = freshBundle() ?? (await rebuild().catch(() => null))
if (bundle) {
  await import(pathToFileURL(path.join(bundle, 'bin.js')).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(path.join(REPO, 'src/cli/bin.ts')).href)
}

/** The current bundle's folder, if every file it was built from is as it was then. */
function freshBundle() {
  try {
    const { dir, inputs } = JSON.parse(readFileSync(CURRENT, 'utf8'))
    for (const [file, stamp] of Object.entries(inputs)) {
      if (stampOf(statSync(path.join(REPO, file))) !== stamp) return null
    }
    return path.join(CACHE, dir)
  } catch {
    return null
  }
}

async function rebuild() {
  const { bundleCli } = await import('./bundle-cli.mjs')
  const dir = `cli-${process.pid}-${Date.now()}`
  const inputs = await bundleCli(path.join(CACHE, dir))
  const stamps = {}
  for (const file of inputs) stamps[file] = stampOf(await stat(path.join(REPO, file)))
  const partial = `${CURRENT}.${process.pid}.partial`
  await writeFile(partial, JSON.stringify({ dir, inputs: stamps }))
  await rename(partial, CURRENT)
  await removeStale(dir)
  return path.join(CACHE, dir)
}

async function removeStale(keep) {
  await mkdir(CACHE, { recursive: true })
  for (const entry of await readdir(CACHE)) {
    if (!entry.startsWith('cli-') || entry === keep) continue
    const folder = path.join(CACHE, entry)
    const { mtimeMs } = await stat(folder).catch(() => ({ mtimeMs: Date.now() }))
    if (Date.now() - mtimeMs > STALE_AFTER_MS) await rm(folder, { recursive: true, force: true }).catch(() => {})
  }
}

function stampOf(stats) {
  return `${stats.size}:${stats.mtimeMs}`
}
