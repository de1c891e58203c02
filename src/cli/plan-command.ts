import path from 'node:path'
import { generateMigration } from '../migrations/generate.js'
import { readHistory } from '../migrations/history.js'
import { pendingMigrations } from '../migrations/pending.js'
import { planAgainst } from '../pipeline.js'
import { withContext } from './context.js'
import type { CommandOptions, Io } from './command.js'
import { planJson, renderPlan } from './render.js'

/** `schema:plan`: print the plan; write it as the next generated migration unless `--dry-run`. */
export async function runPlan(options: CommandOptions, io: Io): Promise<number> {
  return withContext({ ...options, readMigrations: true }, io, async ({ declared, migrations, target }) => {
    const { plan } = await planAgainst(target.db, {
      declared,
      timeouts: options.settings.timeouts,
      allow: options.allow,
    })
    const pending = pendingMigrations(migrations, await readHistory(target.db))
    const generated = await generateMigration({
      plan,
      declared,
      files: migrations,
      pending,
      dir: options.settings.migrationsDir,
      dryRun: options.dryRun,
    })
    const file = generated.migration && path.relative(process.cwd(), generated.migration.path)

    if (options.json) {
      io.out(
        JSON.stringify(
          {
            target: target.spec.display,
            ...planJson(plan),
            coveredByPending: generated.covered.map((c) => ({ subject: c.step.subject, migration: c.by })),
            migration: generated.migration && { name: generated.migration.name, path: file, written: generated.written },
          },
          null,
          2,
        ),
      )
      return 0
    }
    io.out(`Target: ${target.spec.display}\n`)
    io.out(renderPlan(plan))
    const coveredBy = [...new Set(generated.covered.map((c) => c.by))]
    if (coveredBy.length > 0) {
      const which = coveredBy.length === 1 ? `migration ${coveredBy[0]}` : `migrations ${coveredBy.join(', ')}`
      io.out(
        `Pending ${which} already ${coveredBy.length === 1 ? 'covers' : 'cover'} ${generated.covered.length} of these steps; run schema:apply to apply ${coveredBy.length === 1 ? 'it' : 'them'}.`,
      )
    }
    if (generated.migration) {
      io.out(generated.written ? `Wrote ${file}.` : `Would write ${file} (--dry-run: nothing written).`)
    } else if (plan.steps.length > 0) {
      io.out('No new migration written.')
    }
    return 0
  })
}
