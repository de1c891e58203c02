import type { Kysely } from 'kysely'
import { type Change, diffSchemas } from './diff/diff.js'
import { spellDeclaredIndexes } from './introspect/index-probe.js'
import { introspect } from './introspect/introspect.js'
import { probeFacts } from './introspect/probe.js'
import type { SchemaModel } from './model/model.js'
import type { HazardCode } from './plan/hazards.js'
import { factsNeeded, type Plan, planChanges, type Timeouts } from './plan/plan.js'

/**
 * The stages wired together: introspect → diff → plan. The CLI calls these;
 * apply and its post-apply assertion reuse `compare` so the check after DDL is
 * the same code as the check before it.
 */

export interface Comparison {
  readonly live: SchemaModel
  readonly changes: readonly Change[]
}

/**
 * The live schema and what separates it from `declared`. Declared indexes the
 * database has by name are first spelled by PostgreSQL (`index-probe.ts`), so
 * both sides of the diff speak its language; `probeAllIndexes` also checks
 * those it lacks, which `schema:plan` is about to build.
 */
export async function compare(db: Kysely<unknown>, declared: SchemaModel, options: { readonly probeAllIndexes?: boolean } = {}): Promise<Comparison> {
  const live = await introspect(db, declared.namespaces)
  const spelled = await spellDeclaredIndexes(db, declared, live, { all: options.probeAllIndexes ?? false })
  return { live, changes: diffSchemas(spelled, live) }
}

export interface PlanRequest {
  readonly declared: SchemaModel
  readonly timeouts: Timeouts
  readonly allow: ReadonlySet<HazardCode>
}

export async function planAgainst(db: Kysely<unknown>, request: PlanRequest): Promise<Comparison & { plan: Plan }> {
  const comparison = await compare(db, request.declared, { probeAllIndexes: true })
  const facts = await probeFacts(db, factsNeeded(comparison.changes))
  const plan = planChanges(comparison.changes, { timeouts: request.timeouts, allow: request.allow, facts })
  return { ...comparison, plan }
}
