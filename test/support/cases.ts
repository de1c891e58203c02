import { it } from 'vitest'
import type { TargetName } from './targets.js'

/**
 * How a target's cases run: concurrently on a server (each has its own
 * database), one after another on PGlite (one in-process instance per file).
 * Concurrent cases take `expect` from their test context.
 */
export function casesOn(target: TargetName): typeof it | typeof it.concurrent {
  return target === 'pglite' ? it : it.concurrent
}
