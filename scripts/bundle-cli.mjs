/**
 * Bundles the command line (src/cli/bin.ts) with esbuild: one entry file and
 * a few chunks instead of the hundred-odd modules tsc emits plus Kysely's
 * four hundred, which Node would otherwise resolve, read and compile one by
 * one on every run.
 *
 * Each command's module stays a chunk loaded on demand (`import()` in
 * main.ts), so `apply` and `verify` still never load ts-morph, the TypeScript
 * compiler or PGlite. Kysely is bundled in: the command line's own queries
 * run on that copy; generated migrations and the schema module import the
 * application's Kysely as before (see `src/load-module.ts`), and the two
 * meet only through query objects and the `db` instance, which Kysely
 * duck-types. The other packages stay external: pg and jiti are
 * dependencies, PGlite and ts-morph optional ones.
 *
 *   node scripts/bundle-cli.mjs <outdir>     (npm run build: dist/src/cli)
 */
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const EXTERNAL = ['pg', 'pg-connection-string', 'jiti', '@electric-sql/pglite', 'ts-morph', 'typescript']

/**
 * Writes `bin.js` and `chunks/` into `outdir`. Returns the files the bundle
 * was built from, relative to the repository: what decides whether a bundle
 * is still fresh.
 */
export async function bundleCli(outdir) {
  const { build } = await import('esbuild')
  await rm(path.join(outdir, 'chunks'), { recursive: true, force: true })
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: { bin: 'src/cli/bin.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    banner: { js: kyselyNotice() },
  })
  return Object.keys(result.metafile.inputs)
}

/** Kysely is MIT-licensed: a copy of it carries its copyright notice. */
function kyselyNotice() {
  const license = readFileSync(path.join(REPO, 'node_modules/kysely/LICENSE'), 'utf8')
  const copyright = license.split('\n').find((line) => line.startsWith('Copyright')) ?? ''
  return `/*! Includes Kysely (https://kysely.dev), The MIT License (MIT), ${copyright}. */`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const outdir = process.argv[2]
  if (!outdir) {
    process.stderr.write('usage: node scripts/bundle-cli.mjs <outdir>\n')
    process.exit(1)
  }
  await bundleCli(path.resolve(outdir))
  // tsc's source map described the unbundled bin.js this replaces.
  await rm(path.join(path.resolve(outdir), 'bin.js.map'), { force: true })
}
