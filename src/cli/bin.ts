#!/usr/bin/env node
import { main } from './main.js'

/** Process entry: the only place that touches stdout, stderr and the exit code. */
const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
})
process.exitCode = code
// Everything is closed by now; if a stray handle still holds the event loop, do not let it keep a
// one-shot migrate container alive. The timer is unref'd, so a clean exit never waits for it.
setTimeout(() => process.exit(code), 2_000).unref()
