import path from 'node:path'
import type { BackfillModel } from '../backfill/definition.js'
import { loadBackfills } from '../backfill/load.js'
import { generateMigration } from '../migrations/generate.js'
import { readHistory } from '../migrations/history.js'
import { pendingMigrations } from '../migrations/pending.js'
import { displayTableName } from '../model/model.js'
import { planAgainst } from '../pipeline.js'
import { withContext } from './context.js'
import type { CommandOptions, Io } from './command.js'
import { count, type FilledBy, planJson, renderPlan } from './render.js'

/** `schema:plan`: print the plan; write it as the next generated migration unless `--dry-run`. */
export async function runPlan(options: CommandOptions, io: Io): Promise<number> {
  return withContext({ ...options, readMigrations: true }, io, async ({ declared, migrations, target, prefetched }) => {
    const filledBy = columnsFilled(await loadBackfills(options.settings.schemaPath))
    const { plan } = await planAgainst(target.db, {
      declared,
      timeouts: options.settings.timeouts,
      allow: options.allow,
      prefetched,
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
            ...planJson(plan, filledBy),
            pending: pending.map((m) => m.name),
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
    io.out(renderPlan(plan, filledBy))
    if (pending.length > 0) {
      const them = pending.length === 1 ? 'it' : 'them'
      const covered = generated.covered.length
      io.out(
        [
          plan.steps.length > 0 ? 'Not written:' : 'Note:',
          `${count(pending.length, 'generated migration')} ${pending.length === 1 ? 'is' : 'are'} not applied to this database yet (${pending.map((m) => m.name).join(', ')}).`,
          covered > 0 ? `${count(covered, 'step')} above ${covered === 1 ? 'is' : 'are'} already in ${them}.` : '',
          `Apply ${them} first (npm run schema:apply)${plan.steps.length > 0 ? ', then plan again' : ''}.`,
        ]
          .filter(Boolean)
          .join(' '),
      )
    } else if (generated.migration) {
      io.out(generated.written ? `Wrote ${file}.` : `Would write ${file} (--dry-run: nothing written).`)
    }
    return 0
  })
}

/** `call_log.duration_sec` → the backfills that fill it. */
function columnsFilled(backfills: readonly BackfillModel[]): FilledBy {
  const filledBy = new Map<string, string[]>()
  for (const backfill of backfills) {
    for (const { column } of backfill.set) {
      const subject = `${displayTableName(backfill.table)}.${column}`
      filledBy.set(subject, [...(filledBy.get(subject) ?? []), backfill.name])
    }
  }
  return filledBy
}
