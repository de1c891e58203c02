import { callerLocation } from './table.js'

/**
 * Enum types: declared once with `enumType(...)`, used by columns through
 * `c.enum(...)` (or `c.array(c.enum(...))`), typed in `Database` as the union
 * of their labels. The migrator creates an enum before the tables that use it,
 * adds new labels in steps of their own, and holds back removing, renaming or
 * reordering labels (PostgreSQL cannot do those in place).
 *
 * @example
 * export const callStatus = enumType('call_status', ['queued', 'ringing', 'in_progress', 'done'])
 * export const callLog = table('call_log', {
 *   status: c.enum(callStatus).notNull().default('queued'),
 * })
 * export const schema = defineSchema(callLog)   // enums are found through their columns
 */

export interface EnumDefinition<
  Name extends string = string,
  Schema extends string = string,
  Labels extends readonly string[] = readonly string[],
> {
  readonly kind: 'enum-definition'
  readonly name: Name
  readonly schema: Schema
  /** In sort order: PostgreSQL orders enum values as declared, not alphabetically. */
  readonly labels: Labels
  /** `file:line` of the `enumType(...)` call, for error messages; worked out only when read. */
  readonly definedAt: string | null
}

/** The labels of an enum as a TypeScript union: `EnumLabel<typeof callStatus>` is `'queued' | 'ringing' | ...`. */
export type EnumLabel<E extends EnumDefinition> = E['labels'][number]

/**
 * Declares an enum type. Labels are listed in the order PostgreSQL sorts them;
 * a label added later goes where the list puts it (`ADD VALUE ... BEFORE/AFTER`).
 *
 * @example
 * export const callStatus = enumType('call_status', ['queued', 'ringing', 'done'])
 * export const level = enumType('level', ['low', 'high'], { schema: 'audit' })   // audit.level
 */
export function enumType<const Name extends string, const Labels extends readonly string[], const Schema extends string = 'public'>(
  name: Name,
  labels: Labels,
  options: { readonly schema?: Schema } = {},
): EnumDefinition<Name, Schema, Labels> {
  const callSite = new Error()
  let location: string | null | undefined
  return {
    kind: 'enum-definition',
    name,
    schema: (options.schema ?? 'public') as Schema,
    labels,
    get definedAt() {
      if (location === undefined) location = callerLocation(callSite)
      return location
    },
  }
}
