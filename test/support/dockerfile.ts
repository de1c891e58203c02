import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO } from './cli.js'

/**
 * compose/Dockerfile, read and replayed without Docker: each stage gets a
 * folder standing for its filesystem, holding only what the stage's `COPY`
 * lines put there (from the build context, minus `.dockerignore`, or from an
 * earlier stage), and its `RUN` lines run there in order with its `ENV`. The
 * instructions these files use are understood; any other is an error, so a
 * new one cannot be skipped silently.
 */

const run = promisify(execFile)
export const DOCKERFILE = path.join(REPO, 'compose/Dockerfile')

export type Instruction =
  | { readonly kind: 'FROM'; readonly image: string; readonly stage: string | null }
  | { readonly kind: 'WORKDIR'; readonly dir: string }
  | { readonly kind: 'COPY'; readonly from: string | null; readonly sources: readonly string[]; readonly dest: string }
  | { readonly kind: 'RUN'; readonly command: string }
  | { readonly kind: 'ENV'; readonly values: Readonly<Record<string, string>> }
  | { readonly kind: 'USER'; readonly user: string }
  | { readonly kind: 'CMD'; readonly argv: readonly string[] }

export async function parseDockerfile(file = DOCKERFILE): Promise<Instruction[]> {
  const lines = (await readFile(file, 'utf8'))
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  return lines.map((line): Instruction => {
    const [keyword = '', rest = ''] = line.split(/\s+(.*)/s)
    const words = rest.split(/\s+/)
    switch (keyword.toUpperCase()) {
      case 'FROM':
        return { kind: 'FROM', image: words[0] ?? '', stage: /^as$/i.test(words[1] ?? '') ? (words[2] ?? null) : null }
      case 'WORKDIR':
        return { kind: 'WORKDIR', dir: rest }
      case 'COPY': {
        const from = words[0]?.startsWith('--from=') ? words.shift()?.slice('--from='.length) ?? null : null
        const dest = words.pop() ?? ''
        return { kind: 'COPY', from, sources: words, dest }
      }
      case 'RUN':
        return { kind: 'RUN', command: rest }
      case 'ENV':
        return { kind: 'ENV', values: Object.fromEntries(words.map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string])) }
      case 'USER':
        return { kind: 'USER', user: rest }
      case 'CMD':
        return { kind: 'CMD', argv: JSON.parse(rest) as string[] }
      default:
        throw new Error(`compose/Dockerfile: the replay does not know ${keyword}; teach test/support/dockerfile.ts`)
    }
  })
}

/** The image's CMD (the last one). */
export async function dockerfileCmd(): Promise<string[]> {
  const cmd = (await parseDockerfile()).findLast((i) => i.kind === 'CMD')
  if (cmd?.kind !== 'CMD') throw new Error('compose/Dockerfile has no CMD')
  return [...cmd.argv]
}

/** The `ENV` settings of the image's final stage. */
export async function dockerfileEnv(): Promise<Record<string, string>> {
  const instructions = await parseDockerfile()
  const finalStage = instructions.slice(instructions.findLastIndex((i) => i.kind === 'FROM'))
  return Object.assign({}, ...finalStage.map((i) => (i.kind === 'ENV' ? i.values : {})))
}

export interface ReplayedImage {
  /** The final stage's working directory: the image's `/app`. */
  readonly workdir: string
  readonly env: Readonly<Record<string, string>>
  readonly cmd: readonly string[]
  /** Every `RUN` command, in the order it ran. */
  readonly ran: readonly string[]
  /** The `USER` the image runs as (the replay runs as the test's user). */
  readonly user: string | null
}

/**
 * Builds the image in `root`: one folder per stage, each `RUN` in its stage's
 * working directory with the stage's `ENV` (plus this machine's PATH and
 * HOME, where npm finds its cache).
 */
export async function replayDockerfile(root: string): Promise<ReplayedImage> {
  const stages = new Map<string, string>()
  const ran: string[] = []
  let stageRoot = ''
  let workdir = '/'
  let env: Record<string, string> = {}
  let cmd: readonly string[] = []
  let user: string | null = null
  const inStage = (dir: string) => path.join(stageRoot, path.posix.resolve(workdir, dir))

  for (const [index, instruction] of (await parseDockerfile()).entries()) {
    switch (instruction.kind) {
      case 'FROM':
        stageRoot = path.join(root, instruction.stage ?? `stage-${index}`)
        if (instruction.stage) stages.set(instruction.stage, stageRoot)
        await mkdir(stageRoot, { recursive: true })
        workdir = '/'
        env = {}
        user = null
        break
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, instruction.dir)
        await mkdir(inStage('.'), { recursive: true })
        break
      case 'COPY': {
        const fromRoot = instruction.from === null ? null : stages.get(instruction.from)
        if (fromRoot === undefined) throw new Error(`COPY --from=${instruction.from}: no such stage`)
        const ignored = fromRoot === null ? await dockerignore() : []
        for (const source of instruction.sources) {
          const from = fromRoot === null ? path.join(REPO, source) : path.join(fromRoot, source)
          const into = instruction.sources.length > 1 || instruction.dest.endsWith('/') ? path.join(inStage(instruction.dest), path.basename(source)) : inStage(instruction.dest)
          await cp(from, into, { recursive: true, filter: (file) => !isIgnored(path.relative(REPO, file), ignored) })
        }
        break
      }
      case 'RUN':
        await run('sh', ['-c', instruction.command], {
          cwd: inStage('.'),
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
          maxBuffer: 64 * 1024 * 1024,
        })
        ran.push(instruction.command)
        break
      case 'ENV':
        env = { ...env, ...instruction.values }
        break
      case 'USER':
        user = instruction.user
        break
      case 'CMD':
        cmd = instruction.argv
        break
    }
  }
  return { workdir: inStage('.'), env, cmd, ran, user }
}

async function dockerignore(): Promise<string[]> {
  const text = await readFile(path.join(REPO, '.dockerignore'), 'utf8').catch(() => '')
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
}

/** `.dockerignore` as these files write it: names that exclude a top-level entry of the context. */
function isIgnored(relative: string, patterns: readonly string[]): boolean {
  return patterns.includes(relative.split(path.sep)[0] ?? '')
}

/** Package folders in `dir/node_modules` (scoped ones as `@scope/name`). */
export async function installedPackages(dir: string): Promise<string[]> {
  const modules = path.join(dir, 'node_modules')
  const names: string[] = []
  for (const entry of await readdir(modules).catch(() => [])) {
    if (entry.startsWith('.')) continue
    if (!entry.startsWith('@')) names.push(entry)
    else if ((await stat(path.join(modules, entry))).isDirectory()) {
      for (const scoped of await readdir(path.join(modules, entry))) names.push(`${entry}/${scoped}`)
    }
  }
  return names.sort()
}
