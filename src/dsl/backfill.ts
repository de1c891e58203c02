import { callerLocation, type TableDefinition } from './table.js'

/**
 * Declared backfills: how the existing rows of a table get a value for
 * columns a migration added, filled after `schema:apply` by
 * `schema:backfill` in short batches, never inside the migration.
 */

export interface BackfillSpec<ColumnName extends string> {
  /**
   * The columns to fill, each with the SQL expression that computes it from
   * the row's other columns (used verbatim, like `defaultSql`).
   */
  readonly set: { readonly [C in ColumnName]?: string }
  /**
   * The SQL condition a row meets while it still needs the backfill. It must
   * turn false once `set` has run on the row: that is how a re-run, a resumed
   * run and the final check tell the rows done from the rows left.
   */
  readonly where: string
}

export interface BackfillDefinition {
  readonly kind: 'backfill-definition'
  /** Names the backfill in progress records, output and `--rerun`. */
  readonly name: string
  readonly table: TableDefinition
  readonly set: Readonly<Record<string, string>>
  readonly where: string
  /** `file:line` of the `backfill(...)` call, for error messages; worked out only when read. */
  readonly definedAt: string | null
}

/**
 * Declares a backfill for `table`. Export the list from the schema module as
 * `backfills`, next to `schema`.
 *
 * @example
 * export const callLogDurationSec = backfill('call_log_duration_sec', callLog, {
 *   set: { duration_sec: 'floor(extract(epoch FROM ended_at - started_at))::integer' },
 *   where: 'duration_sec IS NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL',
 * })
 * // schema/index.ts
 * export const backfills = [callLogDurationSec]
 */
export function backfill<const T extends TableDefinition>(
  name: string,
  table: T,
  spec: BackfillSpec<keyof T['columns'] & string>,
): BackfillDefinition {
  const callSite = new Error()
  let location: string | null | undefined
  return {
    kind: 'backfill-definition',
    name,
    table,
    set: Object.fromEntries(Object.entries(spec.set).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    where: spec.where,
    get definedAt() {
      if (location === undefined) location = callerLocation(callSite)
      return location
    },
  }
}
