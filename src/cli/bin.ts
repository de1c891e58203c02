#!/usr/bin/env node
import { main } from './main.js'

/**
 * Process entry: the only place that touches stdout, stderr, signals and the
 * exit code.
 *
 * During `apply`, SIGINT and SIGTERM abort the run instead of killing the
 * process: apply cancels its running statement, rolls back the open
 * transaction and exits non-zero (130 or 143). A second signal exits at once;
 * the server then rolls back when the connection drops. The read-only
 * commands keep Node's default: a signal ends them at once.
 */
const controller = new AbortController()
const handlesSignals = process.argv.slice(2).includes('apply')
for (const signal of handlesSignals ? (['SIGINT', 'SIGTERM'] as const) : []) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143)
    process.stderr.write(`schema: ${signal} received; rolling back\n`)
    controller.abort(signal)
  })
}

const code = await main(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  },
  controller.signal,
)
process.exitCode = code
// Everything is closed by now; if a stray handle still holds the event loop, do not let it keep a
// one-shot migrate container alive. The timer is unref'd, so a clean exit never waits for it.
setTimeout(() => process.exit(code), 2_000).unref()
