import { elementTypeOf, type EnumModel, enumKey, enumSpelling } from '../model/enum-model.js'
import type { SchemaModel } from '../model/model.js'

/**
 * Enum type changes. An enum is matched by schema and name and compared by
 * its labels in order. PostgreSQL can add a label in place, anywhere in the
 * order (`ADD VALUE ... BEFORE/AFTER`), so labels the declaration adds while
 * keeping the others in their order are one change each; any other
 * difference (a label gone, which is also what a rename looks like, or the
 * order changed) is one `alter-enum-labels` change that the plan holds back.
 */

export interface EnumRef {
  readonly schema: string
  readonly name: string
}

export type EnumChange =
  | { readonly kind: 'create-enum'; readonly enum: EnumModel }
  | {
      readonly kind: 'add-enum-value'
      readonly enum: EnumRef
      readonly label: string
      /** Where it goes: next to a label that exists by the time it runs; `null` on an enum without labels. */
      readonly position: { readonly before: string } | { readonly after: string } | null
    }
  | {
      readonly kind: 'alter-enum-labels'
      readonly enum: EnumRef
      readonly from: readonly string[]
      readonly to: readonly string[]
      /** Live labels the declaration lacks (removed, or renamed). */
      readonly removed: readonly string[]
      /** The labels both have are in another order. */
      readonly reordered: boolean
    }
  | { readonly kind: 'drop-enum'; readonly enum: EnumModel }

export const ENUM_CHANGE_KINDS = ['create-enum', 'add-enum-value', 'alter-enum-labels', 'drop-enum'] as const

export function isEnumChange(change: { readonly kind: string }): change is EnumChange {
  return (ENUM_CHANGE_KINDS as readonly string[]).includes(change.kind)
}

/**
 * What turns the live enums into the declared ones: creations and added
 * labels (which run before the tables and columns that may use them), and
 * drops (after every column stops using them). A live enum that `schema/`
 * does not declare is dropped only when no declared column uses it: a
 * column may name a hand-made enum through `c.type('mood')`.
 */
export function diffEnums(declared: SchemaModel, live: SchemaModel): { readonly changes: EnumChange[]; readonly drops: EnumChange[] } {
  const liveByKey = new Map(live.enums.map((e) => [enumKey(e), e]))
  const changes: EnumChange[] = []
  for (const wanted of declared.enums) {
    const current = liveByKey.get(enumKey(wanted))
    if (current) changes.push(...diffLabels(current, wanted))
    else changes.push({ kind: 'create-enum', enum: wanted })
  }

  const declaredKeys = new Set(declared.enums.map(enumKey))
  const usedTypes = new Set(declared.tables.flatMap((table) => table.columns.map((column) => elementTypeOf(column.type))))
  const drops: EnumChange[] = live.enums
    .filter((e) => declared.namespaces.includes(e.schema) && !declaredKeys.has(enumKey(e)))
    .filter((e) => !usedTypes.has(enumSpelling(e)) && (e.printed === undefined || !usedTypes.has(e.printed)))
    .map((e) => ({ kind: 'drop-enum', enum: e }))
  return { changes, drops }
}

function diffLabels(live: EnumModel, declared: EnumModel): EnumChange[] {
  const ref = { schema: declared.schema, name: declared.name }
  const removed = live.labels.filter((label) => !declared.labels.includes(label))
  const kept = declared.labels.filter((label) => live.labels.includes(label))
  const liveKept = live.labels.filter((label) => declared.labels.includes(label))
  const reordered = kept.some((label, i) => label !== liveKept[i])
  if (removed.length > 0 || reordered) {
    return [{ kind: 'alter-enum-labels', enum: ref, from: live.labels, to: declared.labels, removed, reordered }]
  }
  // Each new label goes right after the one the declaration puts before it, which exists by then
  // (it was there, or an earlier step added it); a new first label goes before the first one kept.
  const firstKept = kept[0]
  return declared.labels.flatMap((label, i): EnumChange[] => {
    if (live.labels.includes(label)) return []
    const previous = declared.labels[i - 1]
    const position = previous !== undefined ? { after: previous } : firstKept !== undefined ? { before: firstKept } : null
    return [{ kind: 'add-enum-value', enum: ref, label, position }]
  })
}
