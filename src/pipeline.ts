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
export async function compare(db: Kysely<unknown>, declared: SchemaModel, options: CompareOptions = {}): Promise<Comparison> {
  const { prefetched } = options
  // One query at a time: the target's pool holds one connection, and a query waiting for it counts
  // against the connect timeout.
  const current = await (prefetched && sameList(prefetched.namespaces, declared.namespaces) ? prefetched.live : introspect(db, declared.namespaces))
  const resolved = await resolveCatalogReferences(db, declared)
  const all = options.probeAllIndexes ?? false
  const spelled = await spellDeclaredChecks(db, await spellDeclaredIndexes(db, resolved, current, { all }), current, { all })
  const changes = await settleByServer(diffSchemas(spelled, current), serverDeparse(db))
  return { declared: resolved, live: current, changes }
}

export interface CompareOptions {
  /** Also probe declared indexes the target lacks (what `schema:plan` is about to build). */
  readonly probeAllIndexes?: boolean
  /** The catalog, already being read; used when it was read for the namespaces the schema declares. */
  readonly prefetched?: Prefetched | null
}

/**
 * An introspection started before the declared model was built, for the
 * namespaces the schema module names (`namespacesOf`): its server time then
 * passes while the model is built instead of after it.
 */
export interface Prefetched {
  readonly namespaces: readonly string[]
  readonly live: Promise<SchemaModel>
}

/** Starts reading the catalog of `namespaces`, to hand to {@link compare} later. */
export function prefetchCatalog(db: Kysely<unknown>, namespaces: readonly string[]): Prefetched {
  const live = introspect(db, namespaces)
  live.catch(() => {}) // awaited by compare; a command that stops before it must not crash on it
  return { namespaces, live }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}

export interface PlanRequest {
  readonly declared: SchemaModel
  readonly timeouts: Timeouts
  readonly allow: readonly AllowEntry[]
  readonly prefetched?: Prefetched | null
}

/**
 * @throws MigratorError (stage `plan`) when PostgreSQL would refuse a default the plan writes;
 *   nothing is planned then.
 */
export async function planAgainst(db: Kysely<unknown>, request: PlanRequest): Promise<Comparison & { plan: Plan }> {
  const comparison = await compare(db, request.declared, { probeAllIndexes: true, prefetched: request.prefetched ?? null })
  await checkDeclaredForeignKeys(db, comparison.declared, comparison.live)
  const facts = await probeFacts(db, factsNeeded(comparison.changes))
  const plan = planChanges(comparison.changes, { timeouts: request.timeouts, allow: request.allow, facts })
  await checkWrittenDefaults(plan, serverDeparse(db), pendingEnums(comparison.declared, comparison.live))
  return { ...comparison, plan }
}

function serverDeparse(db: Kysely<unknown>): Deparse {
  return (requests) => deparseOnServer(db, requests)
}
