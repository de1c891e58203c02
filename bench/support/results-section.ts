import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { KEPT_MARKER } from './server.js'

const RESULTS_MD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md')

/**
 * Replaces a bench script's section of RESULTS.md (the one that starts with
 * `heading`, kept by `npm run bench`), or adds it after the marker.
 */
export async function writeResultsSection(heading: string, section: string): Promise<void> {
  let text = await readFile(RESULTS_MD, 'utf8')
  if (!text.includes(KEPT_MARKER)) text = `${text.trimEnd()}\n\n${KEPT_MARKER}\n`
  const at = text.indexOf(heading)
  if (at >= 0) {
    const next = text.indexOf('\n## ', at + heading.length)
    text = text.slice(0, at) + text.slice(next < 0 ? text.length : next + 1)
  }
  await writeFile(RESULTS_MD, `${text.trimEnd()}\n\n${section}`)
}

/** `4.2 ms`, `1,234 ms`. */
export const formatMs = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en')} ms`
