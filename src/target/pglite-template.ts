import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'

/**
 * Starting PGlite quickly.
 *
 * Most of a new PGlite database's start-up is `initdb` (about 2.3 s of 2.7 s
 * here); starting from a dump of a freshly initialised data folder takes
 * about 0.4 s. The first new database on a machine pays for initdb and saves
 * such a dump (a template) in the temp folder, keyed by PGlite's version;
 * every later new database, in memory (`schema:check`) or in a new
 * `.pglite/`, starts from it. An existing `.pglite/` starts as it is.
 */

type PGliteClass = typeof PGlite

export async function createPGlite(PGliteClass: PGliteClass, dataDir: string | null): Promise<PGlite> {
  if (dataDir !== null && existsSync(path.join(dataDir, 'PG_VERSION'))) return PGliteClass.create(dataDir)

  const templatePath = templateFile()
  const template = await readFile(templatePath).catch(() => null)
  if (template) {
    return PGliteClass.create({ ...(dataDir === null ? {} : { dataDir }), loadDataDir: tarball(template) })
  }

  const fresh = dataDir === null ? await PGliteClass.create() : await PGliteClass.create(dataDir)
  // Dump before anything is written, so the template is exactly what initdb made.
  await saveTemplate(templatePath, fresh).catch(() => {}) // only a cache: never fail the command over it
  return fresh
}

/**
 * The template as the Blob PGlite reads it from. PGlite only asks for its
 * bytes (`arrayBuffer()`); a real Blob would copy the 40 MB once on the way in
 * and hand them back through Node's Blob stream, chunk by chunk, which cost
 * more than the rest of loading it. Anything else asked of it goes to a real
 * Blob of the same bytes.
 */
function tarball(bytes: Buffer): Blob {
  let blob: Blob | undefined
  const real = () => (blob ??= new Blob([bytes], { type: 'application/x-tar' }))
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  return {
    type: 'application/x-tar',
    size: bytes.byteLength,
    arrayBuffer: async () => (own ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer,
    bytes: async () => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    slice: (...args: Parameters<Blob['slice']>) => real().slice(...args),
    stream: () => real().stream(),
    text: () => real().text(),
  } as Blob
}

async function saveTemplate(file: string, pglite: PGlite): Promise<void> {
  const dump = Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer())
  await mkdir(path.dirname(file), { recursive: true })
  // Write then rename: a concurrent reader sees the whole file or none.
  const partial = `${file}.${process.pid}.partial`
  await writeFile(partial, dump)
  await rename(partial, file)
}

function templateFile(): string {
  return path.join(os.tmpdir(), 'kysely-schema-migrate', `pglite-${pgliteVersion()}-template.tar`)
}

/** PGlite's version, from its package.json (which its `exports` do not expose to `require`). */
function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'))
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir)
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version
}
