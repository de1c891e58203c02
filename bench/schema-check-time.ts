/**
 * Whole-process time of `npm run schema:check` (the command CI runs on every
 * push; what the script runs, without npm), as medians over several runs.
 *
 *   node --import tsx bench/schema-check-time.ts [runs]
 */
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 7)

function once(): number {
  const started = performance.now()
  execFileSync(process.execPath, ['scripts/schema.mjs', 'check'], { cwd: repo, stdio: 'ignore' })
  return performance.now() - started
}

once() // warm the file system cache; not counted
const times = Array.from({ length: runs }, once).sort((a, b) => a - b)
const median = times[Math.floor(times.length / 2)] ?? 0
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`
console.log(`schema:check whole-process time over ${runs} runs on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`)
console.log(`median ${fmt(median)}  min ${fmt(times[0] ?? 0)}  max ${fmt(times.at(-1) ?? 0)}`)
