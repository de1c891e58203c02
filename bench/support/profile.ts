import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runOnce, type RunOptions } from './measure.js'

/**
 * Where a command's time goes: one run under `node --cpu-prof`, its samples
 * summed by where they fall (waiting, garbage collection, module loading,
 * each package, this project's code) and by function.
 */

export interface ProfileSummary {
  readonly command: string
  readonly wallMs: number
  readonly buckets: readonly { readonly name: string; readonly ms: number }[]
  readonly functions: readonly { readonly name: string; readonly ms: number }[]
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

export async function profile(args: readonly string[], options: RunOptions, repo: string): Promise<ProfileSummary> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-bench-prof-'))
  try {
    const run = await runOnce(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...args], options)
    if (run.code !== 0) throw new Error(`profiled run failed: ${run.stderr.slice(0, 500)}`)
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error('no CPU profile written')
    const summary = summarize(JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile, repo)
    return { command: ['node --cpu-prof', ...args].join(' '), ...summary }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function summarize(profile: CpuProfile, repo: string): Omit<ProfileSummary, 'command'> {
  const selfMs = new Map<number, number>()
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000))
  const buckets = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0
    if (ms === 0) continue
    const { functionName, url } = node.callFrame
    const bucket = bucketOf(functionName, url)
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + ms)
    const where = url.replace(/^file:\/\//, '').replace(`${repo}/`, '').replace(/.*node_modules\//, '')
    const name = `${functionName || '(anonymous)'}${where ? ` (${where})` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + ms)
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((x, y) => y[1] - x[1]).slice(0, n).map(([name, ms]) => ({ name, ms }))
  return { wallMs: (profile.endTime - profile.startTime) / 1000, buckets: top(buckets, 10), functions: top(functions, 10) }
}

function bucketOf(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'waiting (idle: the server, the disk)'
  if (functionName === '(garbage collector)') return 'garbage collection'
  if (functionName === '(program)') return 'V8 and Node internals'
  if (url.startsWith('wasm://')) return '@electric-sql/pglite (WebAssembly: PostgreSQL itself)'
  if (url.includes('/node_modules/.cache/kysely-schema-migrate/') || url.includes('/dist/src/cli/')) return 'kysely-schema-migrate (the bundle, Kysely included)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]
  if (pkg) return pkg === '@ts-morph/common' || pkg === 'typescript' ? 'TypeScript compiler (ts-morph)' : pkg
  if (/node:internal\/modules|node:internal\/bootstrap|node:internal\/deps\/cjs-module-lexer/.test(url) || /^(readFileUtf8|internalModuleStat|compileSourceTextModule|wrapSafe)$/.test(functionName)) {
    return 'module loading (resolve, read, compile)'
  }
  if (url.startsWith('node:') || url === '') return 'Node built-ins'
  return 'the schema module and other project files'
}
