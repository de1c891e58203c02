import path from 'node:path'
import { schemaHash } from '../model/hash.js'
import type { SchemaModel } from '../model/model.js'
import type { Plan, Step } from '../plan/plan.js'
import { writeMigration } from './files.js'
import type { GeneratedMigration } from './migration.js'

/**
 * Turns a plan into the next generated migration.
 *
 * A migration is written only against a database that has every earlier
 * generated migration applied: a plan made against an older state would
 * repeat what a pending migration already does, or undo it. With migrations
 * pending, nothing is written, and the result says which steps they already
 * cover, so planning twice before applying never writes a change twice.
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
  /** Steps a pending migration already runs, with its name. */
  readonly covered: readonly { readonly step: Step; readonly by: string }[]
  /** The migration for the plan's steps; `null` when there are none, or migrations are pending. */
  readonly migration: { readonly name: string; readonly path: string; readonly text: string } | null
  readonly written: boolean
}

export async function generateMigration(request: GenerateRequest): Promise<GenerateResult> {
  const pendingSql = new Map<string, string>()
  for (const migration of request.pending) {
    for (const step of migration.steps) pendingSql.set(step.sql, migration.name)
  }
  const covered = request.plan.steps.flatMap((step) => {
    const by = pendingSql.get(step.sql)
    return by ? [{ step, by }] : []
  })
  if (request.plan.steps.length === 0 || request.pending.length > 0) return { covered, migration: null, written: false }

  // ts-morph (and the TypeScript compiler inside it) loads only when there is a migration to write.
  const { nextMigrationName, renderMigration } = await import('./emit.js')
  const name = nextMigrationName(
    request.files.map((f) => f.name),
    request.plan.steps,
  )
  const last = request.files.at(-1)
  const text = renderMigration({
    name,
    schemaHash: schemaHash(request.declared),
    steps: request.plan.steps,
    follows: last ? { name: last.name, checksum: last.writtenChecksum ?? last.checksum } : null,
  })
  const file = path.join(request.dir, `${name}.ts`)
  if (request.dryRun) return { covered, migration: { name, path: file, text }, written: false }
  await writeMigration(request.dir, name, text)
  return { covered, migration: { name, path: file, text }, written: true }
}
