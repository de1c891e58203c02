import type { Kysely } from 'kysely'
import { type Change, diffSchemas } from './diff/diff.js'
import { spellDeclaredChecks } from './introspect/check-probe.js'
import { checkDeclaredForeignKeys } from './introspect/foreign-key-probe.js'
import { spellDeclaredIndexes } from './introspect/index-probe.js'
import { settleByServer } from './diff/settle.js'
import { resolveCatalogReferences } from './introspect/catalog-references.js'
import { introspect } from './introspect/introspect.js'
import { probeFacts } from './introspect/probe.js'
import { type Deparse, deparseOnServer } from './introspect/server-deparse.js'
import type { SchemaModel } from './model/model.js'
import type { AllowEntry } from './plan/allowance.js'
import { checkWrittenDefaults } from './plan/check-defaults.js'
import { pendingEnums } from './plan/enums.js'
import { factsNeeded, type Plan, planChanges, type Timeouts } from './plan/plan.js'

/**
 * The stages wired together: introspect → diff → plan. The CLI calls these;
 * apply and its post-apply assertion reuse `compare` so the check after DDL is
 * the same code as the check before it.
 */

export interface Comparison {
  /** The declared schema with the types and sequences it names resolved in the target's catalog. */
  readonly declared: SchemaModel
  readonly live: SchemaModel
  readonly changes: readonly Change[]
}

/**
 * The live schema and what separates it from `declared`. Declared indexes the
 * database has by name are first spelled by PostgreSQL (`index-probe.ts`), so
 * both sides of the diff speak its language, and so are declared check
 * constraints (`check-probe.ts`); `probeAllIndexes` also checks those it
 * lacks, which `schema:plan` is about to build.
 *
 * @throws MigratorError (stage `introspect`) when the target lacks a type or sequence `declared` names.
 */
export async function compare(db: Kysely<unknown>, declared: SchemaModel, options: { readonly probeAllIndexes?: boolean } = {}): Promise<Comparison> {
  const resolved = await resolveCatalogReferences(db, declared)
  const live = await introspect(db, resolved.namespaces)
  const all = options.probeAllIndexes ?? false
  const spelled = await spellDeclaredChecks(db, await spellDeclaredIndexes(db, resolved, live, { all }), live, { all })
  const changes = await settleByServer(diffSchemas(spelled, live), serverDeparse(db))
  return { declared: resolved, live, changes }
}

export interface PlanRequest {
  readonly declared: SchemaModel
  readonly timeouts: Timeouts
  readonly allow: readonly AllowEntry[]
}

/**
 * @throws MigratorError (stage `plan`) when PostgreSQL would refuse a default the plan writes;
 *   nothing is planned then.
 */
export async function planAgainst(db: Kysely<unknown>, request: PlanRequest): Promise<Comparison & { plan: Plan }> {
  const comparison = await compare(db, request.declared, { probeAllIndexes: true })
  await checkDeclaredForeignKeys(db, comparison.declared, comparison.live)
  const facts = await probeFacts(db, factsNeeded(comparison.changes))
  const plan = planChanges(comparison.changes, { timeouts: request.timeouts, allow: request.allow, facts })
  await checkWrittenDefaults(plan, serverDeparse(db), pendingEnums(comparison.declared, comparison.live))
  return { ...comparison, plan }
}

function serverDeparse(db: Kysely<unknown>): Deparse {
  return (requests) => deparseOnServer(db, requests)
}
