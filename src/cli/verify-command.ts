import { sizeOf } from '../model/model.js'
import { compare } from '../pipeline.js'
import type { CommandOptions, Io } from './command.js'
import { withContext } from './context.js'
import { renderVerify, verifyReport } from './render.js'

/** `schema:verify`: read-only; 0 when the live schema provides everything `schema/` declares, 2 when not. */
export async function runVerify(options: CommandOptions, io: Io): Promise<number> {
  return withContext({ ...options, readMigrations: false }, io, async ({ declared, target, prefetched }) => {
    const { changes } = await compare(target.db, declared, { prefetched })
    const report = verifyReport(changes)
    const matches = report.mismatches.length === 0
    if (options.json) {
      io.out(JSON.stringify({ target: target.spec.display, matches, ...report }, null, 2))
    } else {
      io.out(`Target: ${target.spec.display}\n`)
      io.out(renderVerify(report, sizeOf(declared)))
    }
    return matches ? 0 : 2
  })
}
