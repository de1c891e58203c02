import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Jiti, TransformOptions } from 'jiti'

/**
 * Imports a module the user wrote or generated: `schema.config.ts`, the
 * schema, a generated migration.
 *
 * JavaScript goes through Node's own `import()` (the migrate image runs
 * compiled JavaScript and never loads a compiler). TypeScript goes through
 * jiti, the loader c12 and kysely-ctl use for the same job: an application
 * runs `kysely-schema-migrate plan` on its `.ts` files without adding a loader
 * of its own. jiti is loaded only when a TypeScript file is.
 */

const TYPESCRIPT = /\.(c|m)?ts$/

export interface ImportOptions {
  /**
   * Resolve `kysely` from this folder (the application) instead of from the
   * module's own folder: generated migrations import it, and a migrations
   * folder outside the application's tree (a shared folder, a scratch folder)
   * could not find it otherwise.
   */
  readonly kyselyFrom?: string
}

export async function importModule(file: string, options: ImportOptions = {}): Promise<Record<string, unknown>> {
  if (!TYPESCRIPT.test(file)) return (await import(pathToFileURL(file).href)) as Record<string, unknown>
  const jiti = await loader(options.kyselyFrom === undefined ? null : kyselyEntry(options.kyselyFrom))
  return (await jiti.import(file)) as Record<string, unknown>
}

const loaders = new Map<string | null, Promise<Jiti>>()

function loader(kysely: string | null): Promise<Jiti> {
  let jiti = loaders.get(kysely)
  if (!jiti) {
    jiti = import('jiti').then(({ createJiti }) => {
      const cacheDir = privateCacheDir()
      const options = {
        ...(kysely === null ? {} : { alias: { kysely } }),
        // jiti's own cache is keyed by path and, on a hit, skips `transform` below; the compiled code is
        // cached by content there instead.
        fsCache: false,
        // Loaded by Node itself, not re-compiled: the same Kysely instance this process already runs.
        nativeModules: ['kysely'],
        // Exports as the module wrote them: a config file without a default export has none.
        interopDefault: false,
      }
      const compiler = createJiti(import.meta.url, options)
      const compile = (opts: TransformOptions) => compiler.transform(opts)
      const compileOnce = cacheDir === false ? compile : transformOncePerContent(cacheDir, compile)
      return createJiti(import.meta.url, {
        ...options,
        transform: (opts: TransformOptions) => ({ code: importsPointedAtSources(compileOnce(opts), opts.filename) }),
      })
    })
    loaders.set(kysely, jiti)
  }
  return jiti
}

/**
 * jiti's compile step, remembered by what a file holds rather than where it
 * is. jiti's own cache is keyed by path, so the same migration in another
 * folder (a new checkout, a CI workspace, a copy) was compiled again, and
 * the first compile in a process loads Babel: about 0.7 s of CPU on a run
 * that otherwise takes one. The compiled code depends on the path only
 * through `import.meta` (inlined as the file's URL and folder), so a file
 * that mentions `meta` at all is keyed by its path too.
 */
function transformOncePerContent(cacheDir: string, compile: (opts: TransformOptions) => string): (opts: TransformOptions) => string {
  const dir = path.join(cacheDir, 'by-content')
  const jitiVersion = (createRequire(import.meta.url)('jiti/package.json') as { version: string }).version
  return (opts: TransformOptions): string => {
    const { source, filename, ...rest } = opts
    const key = createHash('sha256')
      .update(JSON.stringify({ jiti: jitiVersion, rest, path: source.includes('meta') ? filename : null }))
      .update('\0')
      .update(source)
      .digest('hex')
    const file = path.join(dir, `${key}.cjs`)
    try {
      return readFileSync(file, 'utf8')
    } catch {
      const code = compile(opts)
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        const partial = `${file}.${process.pid}.partial`
        writeFileSync(partial, code, { mode: 0o600 })
        renameSync(partial, file)
      } catch {
        // Only a cache: a run that cannot write it still runs.
      }
      return code
    }
  }
}

/**
 * TypeScript written for Node's module resolution imports `./table.js` where
 * the file is `./table.ts`. jiti finds it only after trying the `.js` path
 * against four base folders with every extension it knows and under two sets
 * of conditions, each miss a thrown error: about 4 ms an import, most of a
 * small command's module loading. Each such import in the compiled code is
 * pointed at the file that is there instead, which jiti then finds at its
 * first try; an import whose `.js` file exists, or that has no source beside
 * it, is left as it was. Not part of the cached compile: it depends on the
 * files around the module, not on its text.
 */
function importsPointedAtSources(code: string, filename: string | undefined): string {
  if (filename === undefined) return code
  const dir = path.dirname(filename)
  return code.replace(/\bjitiImport\("((?:\.{1,2}\/|\/)[^"\\]*?)\.([cm]?)js(x?)"\)/g, (call, stem: string, flavour: string, jsx: string) => {
    const written = path.resolve(dir, `${stem}.${flavour}js${jsx}`)
    const source = path.resolve(dir, `${stem}.${flavour}ts${jsx}`)
    if (existsSync(written) || !existsSync(source)) return call
    return `jitiImport(${JSON.stringify(source)})`
  })
}

/**
 * Where jiti keeps what it compiled, between runs. Its default is a temporary
 * folder every user of the machine shares, where another user could read a
 * compiled config file (and a password written in it) or plant a file under
 * the name jiti then loads. This one belongs to the user alone: created 0700,
 * and used only if it is a real folder this user owns that nobody else can
 * enter; otherwise nothing is cached (slower, never unsafe).
 */
function privateCacheDir(): string | false {
  const uid = process.getuid?.()
  const dir = path.join(os.tmpdir(), `kysely-schema-migrate-${uid ?? 'user'}`)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const folder = lstatSync(dir)
    if (!folder.isDirectory()) return false
    if (uid !== undefined && (folder.uid !== uid || (folder.mode & 0o077) !== 0)) return false
    return dir
  } catch {
    return false
  }
}

/**
 * The entry file of the `kysely` that `appDir` resolves. When it is the same
 * package this process runs (the usual case: Kysely is our peer dependency),
 * its ES module entry, which Node shares with this process instead of
 * loading a second copy; otherwise the application's CommonJS entry. Falls
 * back to this process's own Kysely if the application has none.
 */
function kyselyEntry(appDir: string): string {
  const ownCommonJs = createRequire(import.meta.url).resolve('kysely')
  let apps: string
  try {
    apps = createRequire(path.join(appDir, 'package.json')).resolve('kysely')
  } catch {
    apps = ownCommonJs
  }
  // `import.meta.resolve` is missing where a bundler or test runner rewrote this module.
  const ownModule = typeof import.meta.resolve === 'function' ? fileURLToPath(import.meta.resolve('kysely')) : null
  const canShare = (process.features as { require_module?: boolean }).require_module === true
  return canShare && ownModule !== null && packageDir(apps) === packageDir(ownModule) ? ownModule : apps
}

function packageDir(entry: string): string {
  const marker = `${path.sep}node_modules${path.sep}kysely${path.sep}`
  const at = entry.lastIndexOf(marker)
  return at === -1 ? entry : entry.slice(0, at + marker.length)
}
