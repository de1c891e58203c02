import path from 'node:path'
import { inspectionProblem } from '../backfill/inspect.js'
import { loadBackfills } from '../backfill/load.js'
import { type CheckResult, checkMigrations, inSync } from '../check/check.js'
import { findDuplicateColumns } from '../check/duplicate-columns.js'
import { describeChange } from '../diff/describe.js'
import { MigratorError } from '../errors.js'
import { loadSchema } from '../load-schema.js'
import { loadMigrations } from '../migrations/files.js'
import { sizeOf } from '../model/model.js'
import { subjectOf } from '../plan/plan.js'
import { openTarget } from '../target/open.js'
import type { CommandOptions, Io } from './command.js'
import { count, sizeText } from './render.js'

/**
 * `schema:check`: offline, whatever DATABASE_URL says. Replays
 * `generated-migrations/` on a fresh in-memory PGlite database and compares
 * the result with `schema/`. Exit 0 in sync, 2 drift, 1 error.
 */
export async function runCheck(options: CommandOptions, io: Io): Promise<number> {
  const { settings } = options
  const declared = await loadSchema(settings.schemaPath)
  const backfills = await loadBackfills(settings.schemaPath)
  const migrations = await loadMigrations(settings.migrationsDir, { appDir: settings.appDir })
  // The embedded database starts (WebAssembly compile, the initdb template) while the source scan below
  // runs. Not before the modules load: an open PGlite holds the process, so a module whose top-level
  // await never settles would hang the command instead of failing it (bin.ts reports it when the event
  // loop empties).
  const opening = openTarget(
    { kind: 'pglite', dataDir: null, display: 'fresh in-memory PGlite database' },
    { connectTimeoutMs: settings.connectTimeoutMs },
  )
  // Awaited below; until then its failure must not count as unhandled.
  opening.catch(() => {})
  let duplicates
  try {
    duplicates = await findDuplicateColumns(settings.schemaPath)
  } catch (error) {
    // The scan's failure (no TypeScript, no ts-morph) is the one to report; the database is not needed.
    await opening.then((target) => target.close(), () => {})
    throw error
  }
  const target = await opening
  if (duplicates.length > 0) {
    await target.close()
    const lines = duplicates.map((d) => `  - table ${d.table} (${d.at}): column ${d.column} is declared twice; JavaScript keeps only the last`)
    throw new MigratorError('schema', `the schema is invalid:\n${lines.join('\n')}`, {
      hint: 'remove or rename one of the two declarations in schema/',
    })
  }
  let result: CheckResult
  const backfillProblems: { subject: string; problem: string }[] = []
  try {
    result = await checkMigrations({ db: target.db, declared, migrations })
    // The declared backfills' SQL, planned on the replayed database: a typo fails here, not after a deploy.
    for (const backfill of result.drift.length === 0 && !result.replayFailure ? backfills : []) {
      const problem = await inspectionProblem(target.db, backfill)
      if (problem) backfillProblems.push({ subject: `backfill ${backfill.name}`, problem })
    }
  } finally {
    await target.close()
  }

  const dir = path.relative(process.cwd(), settings.migrationsDir) || '.'
  const problems = [
    ...result.integrity.map((p) => ({ subject: `${dir}/${p.migration}.ts`, problem: p.problem })),
    ...(result.replayFailure
      ? [{ subject: `${dir}/${result.replayFailure.migration}.ts`, problem: `fails to apply: ${result.replayFailure.message}` }]
      : []),
    ...result.drift.map((change) => ({ subject: subjectOf(change), problem: describeChange(change) })),
    ...backfillProblems,
  ]
  const ok = inSync(result) && backfillProblems.length === 0
  if (options.json) {
    io.out(JSON.stringify({ inSync: ok, replayed: result.replayed, problems }, null, 2))
    return ok ? 0 : 2
  }
  if (ok) {
    io.out(
      `In sync: replaying ${count(result.replayed, 'migration')} from ${dir}/ on a fresh database yields exactly schema/ (${sizeText(sizeOf(declared))}).`,
    )
    return 0
  }
  io.out(`Drift: ${count(problems.length, 'problem')} between ${dir}/ and schema/`)
  for (const p of problems) io.out(`  ${p.subject}: ${p.problem}`)
  const advice: string[] = []
  if (result.drift.length > 0) advice.push('run `npm run schema:plan` to write the migration schema/ needs, and commit it')
  if (result.integrity.length > 0 || result.replayFailure) {
    advice.push('restore edited, deleted or renamed migrations from version control')
  }
  if (backfillProblems.length > 0) advice.push('fix the backfill declarations in schema/')
  io.out(`Fix: ${advice.join('; ')}.`)
  return 2
}
