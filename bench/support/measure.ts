import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

/**
 * Whole-process measurement: wall time from spawn to exit, and peak resident
 * memory (the kernel's high-water mark, VmHWM, sampled until the process
 * ends; it only grows, so the last sample is the peak).
 */

export interface Run {
  readonly ms: number
  readonly peakRssMb: number
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

export interface Measurement {
  readonly label: string
  readonly command: string
  readonly medianMs: number
  readonly peakRssMb: number
  readonly runs: readonly number[]
  /** Empty when every run exited 0 in time. */
  readonly problem: string
}

export interface RunOptions {
  readonly cwd: string
  readonly env?: Record<string, string>
  readonly timeoutMs?: number
}

export function runOnce(command: string, args: readonly string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let peakKb = 0
    let timedOut = false
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (match) peakKb = Math.max(peakKb, Number(match[1]))
      } catch {
        // The process has exited between samples.
      }
    }
    const sampler = setInterval(sample, 5)
    // Every run is bounded: a hung process must not hang the benchmark.
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 600_000)
    child.on('exit', () => sample())
    child.on('close', (code) => {
      clearInterval(sampler)
      clearTimeout(timer)
      resolve({ ms: performance.now() - started, peakRssMb: peakKb / 1024, code, stdout, stderr, timedOut })
    })
  })
}

export async function measure(
  label: string,
  command: string,
  args: readonly string[],
  options: RunOptions & { runs: number; expectCode?: number },
): Promise<Measurement> {
  const runs: Run[] = []
  for (let i = 0; i < options.runs; i++) runs.push(await runOnce(command, args, options))
  const bad = runs.find((r) => r.timedOut || r.code !== (options.expectCode ?? 0))
  const problem = bad
    ? bad.timedOut
      ? `timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`
      : `exit ${bad.code}: ${(bad.stderr || bad.stdout).trim().split('\n').slice(-2).join(' ').slice(0, 200)}`
    : ''
  return {
    label,
    command: [command, ...args].join(' '),
    medianMs: median(runs.map((r) => r.ms)),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    runs: runs.map((r) => Math.round(r.ms)),
    problem,
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}
