#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'
import { main, unsettledLines } from './main.js'

/**
 * The embedded database is PostgreSQL compiled to WebAssembly (PGlite). V8
 * compiles it with its baseline compiler (Liftoff), then compiles the hot
 * functions again with its optimizing one in background threads, and a
 * process cannot exit before those jobs end. For a command that lives a
 * second, the second compile is all cost: without it the embedded `plan` took
 * 0.60 s instead of 0.98 s and `check` 1.05 s instead of 1.57 s, and a 9 s
 * apply of 1,000 tables was no slower. Set before anything loads PGlite, which
 * the commands import only when they use it.
 */
setFlagsFromString('--liftoff-only')

/**
 * Process entry: the only place that touches stdout, stderr, signals and the
 * exit code.
 *
 * Commands that change the database (`apply`, `backfill`) arm SIGINT and SIGTERM just
 * before they connect: from then on a signal aborts the run instead of killing
 * the process, so apply cancels its running statement, rolls back the open
 * transaction and exits non-zero (130 or 143). A second signal exits at once;
 * the server then rolls back when the connection drops. Before that, and in
 * the read-only commands, Node's default applies: a signal ends the process at
 * once, even while a schema module busy-loops, and nothing has connected yet.
 */
const controller = new AbortController()
let armed = false
const arm = () => {
  if (armed) return
  armed = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143)
      process.stderr.write(`schema: ${signal} received; rolling back\n`)
      controller.abort(signal)
    })
  }
}

const argv = process.argv.slice(2)
let settled = false
process.once('beforeExit', () => {
  if (settled) return
  process.stderr.write(`${unsettledLines(argv).join('\n')}\n`)
  process.exit(1)
})

const code = await main(
  argv,
  {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    ...(process.stderr.isTTY ? { status: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
  },
  { signal: controller.signal, arm },
)
settled = true
process.exitCode = code
// Everything is closed by now; if a stray handle still holds the event loop, do not let it keep a
// one-shot migrate container alive. The timer is unref'd, so a clean exit never waits for it.
setTimeout(() => process.exit(code), 2_000).unref()
