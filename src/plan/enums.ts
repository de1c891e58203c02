import { sql } from 'kysely'
import type { EnumChange, EnumRef } from '../diff/enums.js'
import type { Change } from '../diff/diff.js'
import { TypeSpecError } from '../errors.js'
import { type EnumModel, enumKey, enumSpelling, labelList, sameLabels } from '../model/enum-model.js'
import type { SchemaModel } from '../model/model.js'
import { parseType } from '../model/normalize-type.js'
import { splitCast, stringLiteralValue, stripOuterParentheses } from '../model/sql-text.js'
import { type Hazard, type HazardCode, HAZARDS } from './hazards.js'
import type { Draft } from './plan.js'
import { render } from './render-sql.js'

/**
 * The steps of an enum change.
 *
 * - A new enum is `CREATE TYPE ... AS ENUM`, in the migration's transaction,
 *   before the tables that use it (apply leaves it out when the type exists,
 *   and the post-apply assertion compares its labels).
 * - Each new label is `ALTER TYPE ... ADD VALUE IF NOT EXISTS ... BEFORE/AFTER`
 *   in a step of its own, outside any transaction block: PostgreSQL refuses a
 *   label in the transaction that added it (and, before 12, the statement in
 *   a transaction block at all), so it must have committed before a later step
 *   or migration writes it as a default, in a check or in a row.
 * - Removing, renaming or reordering labels is held back: PostgreSQL cannot do
 *   it in place, and doing it by rebuilding the type rewrites every table using it.
 * - An enum no longer declared nor used by a declared column is dropped, after
 *   the columns, only with `--allow drop-enum`.
 */
export function enumDrafts(change: EnumChange, subject: string): Draft[] {
  const hazard = (code: HazardCode, detail = ''): Hazard => ({ code, message: `${subject}: ${HAZARDS[code]}${detail}` })
  switch (change.kind) {
    case 'create-enum':
      return [{ sql: createEnumSql(change.enum, change.enum.labels), lock: 'none', hazards: [] }]
    case 'add-enum-value':
      return [{ sql: addEnumValueSql(change.enum, change.label, change.position), lock: 'none', hazards: [], transaction: false }]
    case 'alter-enum-labels': {
      const hazards: Hazard[] = []
      if (change.removed.length > 0) hazards.push(hazard('enum-label-removed', removedDetail(change)))
      if (change.reordered) {
        hazards.push(
          hazard(
            'enum-label-reordered',
            ` (the database has ${labelList(change.from)}, schema/ declares ${labelList(change.to)}); to keep the database's order, list the labels in it in schema/; to change it, create a new type in the declared order, convert the columns to it (a table rewrite) and drop the old one, by hand`,
          ),
        )
      }
      return [{ sql: null, lock: 'none', hazards }]
    }
    case 'drop-enum':
      return [{ sql: dropEnumSql(change.enum), lock: 'none', hazards: [hazard('drop-enum', ` (labels ${labelList(change.enum.labels)})`)] }]
  }
}

/** Why labels cannot just go, and what to run by hand: the exact `RENAME VALUE` when it looks like a rename. */
function removedDetail(change: Extract<EnumChange, { kind: 'alter-enum-labels' }>): string {
  const added = change.to.filter((label) => !change.from.includes(label))
  const removed = change.removed
  const oneRenamed = removed.length === 1 && added.length === 1 && change.from.indexOf(removed[0] as string) === change.to.indexOf(added[0] as string)
  const rename = oneRenamed
    ? `if ${labelList(removed)} was renamed, run ${renameEnumValueSql(change.enum, removed[0] as string, added[0] as string)} by hand (instant, rows follow the new name)`
    : 'to rename a label, run ALTER TYPE ... RENAME VALUE by hand (instant, rows follow the new name)'
  return ` (the database has ${labelList(removed)}, schema/ does not${added.length > 0 ? `; it declares ${labelList(added)} instead` : ''}); ${rename}; to remove a label, create a new type with the declared labels, convert the columns to it (a table rewrite, which fails while a row holds the label) and drop the old one`
}

export function createEnumSql(ref: EnumRef, labels: readonly string[]): string {
  return render(sql`CREATE TYPE ${sql.id(ref.schema, ref.name)} AS ENUM (${sql.join(labels.map((label) => sql.lit(label)))})`)
}

export function addEnumValueSql(ref: EnumRef, label: string, position: Extract<EnumChange, { kind: 'add-enum-value' }>['position']): string {
  const where = position === null ? sql`` : 'before' in position ? sql` BEFORE ${sql.lit(position.before)}` : sql` AFTER ${sql.lit(position.after)}`
  return render(sql`ALTER TYPE ${sql.id(ref.schema, ref.name)} ADD VALUE IF NOT EXISTS ${sql.lit(label)}${where}`)
}

export function renameEnumValueSql(ref: EnumRef, from: string, to: string): string {
  return render(sql`ALTER TYPE ${sql.id(ref.schema, ref.name)} RENAME VALUE ${sql.lit(from)} TO ${sql.lit(to)}`)
}

export function dropEnumSql(ref: EnumRef): string {
  return render(sql`DROP TYPE IF EXISTS ${sql.id(ref.schema, ref.name)}`)
}

/** The declared labels of each enum the target lacks or has with other labels, by every spelling a column may name it with. */
export type PendingEnums = ReadonlyMap<string, readonly string[]>

export function pendingEnums(declared: SchemaModel, live: SchemaModel): PendingEnums {
  const liveByKey = new Map<string, EnumModel>(live.enums.map((e) => [enumKey(e), e]))
  const pending = new Map<string, readonly string[]>()
  for (const wanted of declared.enums) {
    const current = liveByKey.get(enumKey(wanted))
    if (current && sameLabels(current.labels, wanted.labels)) continue
    pending.set(enumSpelling(wanted), wanted.labels)
    if (current?.printed !== undefined) pending.set(current.printed, wanted.labels)
  }
  return pending
}

/**
 * For a column type change to or from a type outside the built-in set (an
 * enum): the live default as a bare literal, to set again around the change
 * (`'queued'::text` becomes `'queued'`, which the new type reads). PostgreSQL
 * cannot cast a text default to an enum, and a default cast from an enum to
 * text would keep naming the enum. `null` leaves the default to PostgreSQL.
 */
export function defaultToKeep(change: Extract<Change, { kind: 'alter-column-type' }>): string | null {
  const live = change.liveDefault
  if (live === null || (isBuiltInType(change.from) && isBuiltInType(change.to))) return null
  const cast = splitCast(stripOuterParentheses(live.sql))
  const literal = stripOuterParentheses(cast ? cast[0] : live.sql)
  return stringLiteralValue(literal) === null ? null : literal
}

function isBuiltInType(type: string): boolean {
  try {
    parseType(type)
    return true
  } catch (error) {
    if (error instanceof TypeSpecError) return false
    throw error
  }
}
