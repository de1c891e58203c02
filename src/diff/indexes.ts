import { type IndexModel, writtenDefinition } from '../model/index-model.js'
import type { TableRef } from './diff.js'

/**
 * Index and unique constraint changes. Indexes are matched by name (names
 * are derived as PostgreSQL derives them, so a hand-made
 * `CREATE INDEX ON call_log (created_at)` matches `index('created_at')`) and
 * compared by PostgreSQL's own spelling of their definition.
 */

export type IndexChange =
  | {
      readonly kind: 'create-index'
      readonly table: TableRef
      readonly index: IndexModel
      /** The table is created by the same plan: nobody uses it yet, so no concurrent build is needed. */
      readonly newTable: boolean
    }
  | {
      readonly kind: 'replace-index'
      readonly table: TableRef
      readonly from: IndexModel
      readonly to: IndexModel
      /** `invalid`: left by a failed or cancelled concurrent build; `definition`: it differs from the declaration. */
      readonly reason: 'invalid' | 'definition'
    }
  | { readonly kind: 'drop-index'; readonly table: TableRef; readonly index: IndexModel }

export const INDEX_CHANGE_KINDS = ['create-index', 'replace-index', 'drop-index'] as const

export function isIndexChange(change: { readonly kind: string }): change is IndexChange {
  return (INDEX_CHANGE_KINDS as readonly string[]).includes(change.kind)
}

/** What turns `live` indexes into `declared` ones on one table: creations and replacements, then drops. */
export function diffIndexes(
  table: TableRef,
  live: readonly IndexModel[],
  declared: readonly IndexModel[],
): { readonly changes: IndexChange[]; readonly drops: IndexChange[] } {
  const liveByName = new Map(live.map((index) => [index.name, index]))
  const declaredNames = new Set(declared.map((index) => index.name))
  const changes: IndexChange[] = []
  for (const index of declared) {
    const current = liveByName.get(index.name)
    if (!current) changes.push({ kind: 'create-index', table, index, newTable: false })
    else if (!current.valid) changes.push({ kind: 'replace-index', table, from: current, to: index, reason: 'invalid' })
    else if (!sameIndex(current, index)) changes.push({ kind: 'replace-index', table, from: current, to: index, reason: 'definition' })
  }
  const drops: IndexChange[] = live
    .filter((index) => !declaredNames.has(index.name))
    .map((index) => ({ kind: 'drop-index', table, index }))
  return { changes, drops }
}

function sameIndex(live: IndexModel, declared: IndexModel): boolean {
  // A declared index not probed (no database to ask) is compared by name alone.
  const definition = declared.canonical === null || live.canonical === declared.canonical
  return definition && live.unique === declared.unique && live.constraint === declared.constraint
}

/** `a unique constraint USING btree (call_sid)`: an index as people read it in a difference. */
export function indexSummary(index: IndexModel): string {
  const what = index.constraint ? 'a unique constraint' : index.unique ? 'a unique index' : 'an index'
  const definition = index.canonical ?? (index.definition && writtenDefinition(index.definition))
  return definition ? `${what} ${definition}` : what
}
