/**
 * Waiting: retry backoff and abortable sleeps.
 */

const BASE_MS = 500
const CAP_MS = 10_000

/**
 * Delay before retry `attempt` (1-based): exponential from 0.5 s, capped at
 * 10 s, with "equal jitter" (half fixed, half random) so that runners that
 * collided do not retry in lockstep, yet each waits a predictable minimum.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** The longest total of `retries` backoff delays: part of the documented worst-case apply time. */
export function maxTotalBackoff(retries: number): number {
  let total = 0
  for (let attempt = 1; attempt <= retries; attempt++) total += Math.min(CAP_MS, BASE_MS * 2 ** (attempt - 1))
  return total
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
