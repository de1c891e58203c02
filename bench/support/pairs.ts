import os from 'node:os'
import { median, runOnce, type RunOptions } from './measure.js'

/**
 * Side-by-side measurement: A and B run alternately, one pair at a time
 * (A B, then B A, ...), and the figure is the median of the per-pair ratios.
 * On a shared machine the load changes from second to second; two runs next
 * to each other see nearly the same load, so their ratio holds where either
 * time alone would not.
 */

export interface Side {
  readonly label: string
  readonly command: string
  readonly args: readonly string[]
  readonly options: RunOptions
  /** Untimed, before each run (a fresh database, folder, temp dir): options for that run. */
  readonly prepare?: () => Promise<Partial<RunOptions>>
}

export interface SideResult {
  readonly label: string
  readonly command: string
  readonly medianMs: number
  readonly peakRssMb: number
  readonly runs: readonly number[]
}

export interface PairResult {
  readonly a: SideResult
  readonly b: SideResult
  /** Median over the pairs of A's time divided by B's. */
  readonly ratio: number
  /** The one-minute load average when the pairs started and when they ended. */
  readonly load: readonly [number, number]
  /** Empty when every run exited as expected in time. */
  readonly problem: string
}

export async function measurePair(a: Side, b: Side, pairs: number): Promise<PairResult> {
  // One untimed run each: the file cache, jiti's cache and the npm scripts' bundle are then as a
  // developer's second run finds them.
  await runSide(a)
  await runSide(b)
  const load0 = os.loadavg()[0] ?? 0
  const timesA: number[] = []
  const timesB: number[] = []
  const rss = { a: 0, b: 0 }
  const problems: string[] = []
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
    for (const which of order) {
      const run = await runSide(which === 'a' ? a : b)
      ;(which === 'a' ? timesA : timesB).push(run.ms)
      rss[which] = Math.max(rss[which], run.peakRssMb)
      if (run.problem) problems.push(`${which === 'a' ? a.label : b.label}: ${run.problem}`)
    }
  }
  const ratios = timesA.map((t, i) => t / (timesB[i] ?? Number.NaN))
  const side = (s: Side, times: number[], peak: number): SideResult => ({
    label: s.label,
    command: [s.command, ...s.args].join(' '),
    medianMs: median(times),
    peakRssMb: peak,
    runs: times.map(Math.round),
  })
  return {
    a: side(a, timesA, rss.a),
    b: side(b, timesB, rss.b),
    ratio: median(ratios),
    load: [load0, os.loadavg()[0] ?? 0],
    problem: problems[0] ?? '',
  }
}

/** One run of a side, timed from spawn to exit; `problem` says how it failed, if it did. */
export async function runSide(side: Side): Promise<{ ms: number; peakRssMb: number; problem: string }> {
  const extra = side.prepare ? await side.prepare() : {}
  const options = { ...side.options, ...extra, env: { ...side.options.env, ...extra.env } }
  const run = await runOnce(side.command, side.args, options)
  const problem = run.timedOut
    ? 'timed out'
    : run.code !== 0
      ? `exit ${run.code}: ${(run.stderr || run.stdout).trim().split('\n').slice(-2).join(' ').slice(0, 300)}`
      : ''
  return { ms: run.ms, peakRssMb: run.peakRssMb, problem }
}
