import path from 'node:path'
import type { SchemaModel } from '../model/model.js'
import { schemaHash } from '../model/hash.js'
import type { Plan, Step } from '../plan/plan.js'
import { nextMigrationName, renderMigration } from './emit.js'
import { writeMigration } from './files.js'
import type { GeneratedMigration } from './migration.js'

/**
 * Turns a plan into the next generated migration, leaving out steps that a
 * pending (written, not yet applied) migration already runs, so planning twice
 * before applying never writes the same change twice.
 */

export interface GenerateRequest {
  readonly plan: Plan
  readonly declared: SchemaModel
  /** Every migration file, in order. */
  readonly files: readonly GeneratedMigration[]
  /** The files not yet applied to the target. */
  readonly pending: readonly GeneratedMigration[]
  readonly dir: string
  readonly dryRun: boolean
}

export interface GenerateResult {
  /** Steps a pending migration already covers, with its name. */
  readonly covered: readonly { readonly step: Step; readonly by: string }[]
  /** The migration for the remaining steps; `null` when there are none. */
  readonly migration: { readonly name: string; readonly path: string; readonly text: string } | null
  readonly written: boolean
}

export async function generateMigration(request: GenerateRequest): Promise<GenerateResult> {
  const pendingSql = new Map<string, string>()
  for (const migration of request.pending) {
    for (const step of migration.steps) pendingSql.set(step.sql, migration.name)
  }
  const covered: { step: Step; by: string }[] = []
  const fresh: Step[] = []
  for (const step of request.plan.steps) {
    const by = pendingSql.get(step.sql)
    if (by) covered.push({ step, by })
    else fresh.push(step)
  }
  if (fresh.length === 0) return { covered, migration: null, written: false }

  const name = nextMigrationName(
    request.files.map((f) => f.name),
    fresh,
  )
  const last = request.files.at(-1)
  const text = renderMigration({
    name,
    schemaHash: schemaHash(request.declared),
    steps: fresh,
    follows: last ? { name: last.name, checksum: last.writtenChecksum ?? last.checksum } : null,
  })
  const file = path.join(request.dir, `${name}.ts`)
  if (request.dryRun) return { covered, migration: { name, path: file, text }, written: false }
  await writeMigration(request.dir, name, text)
  return { covered, migration: { name, path: file, text }, written: true }
}
