import type { EnumDefinition } from '../dsl/enums.js'
import type { SchemaDefinition } from '../dsl/table.js'
import { compareText, displayTableName } from './model.js'
import { quoteIdentifierIfNeeded } from './sql-text.js'

/**
 * Enum types in the normalized model: the declared ones (`enumType(...)`,
 * found in `defineSchema` and through the columns that use them) and the live
 * ones (`pg_enum`, in `enumsortorder`). Two enums are equal when their labels
 * are, in the same order: PostgreSQL sorts and compares enum values by that order.
 */
export interface EnumModel {
  readonly schema: string
  readonly name: string
  /** In sort order. */
  readonly labels: readonly string[]
  /**
   * Live only: the type as `format_type` spells it in this session (`call_status`, `audit."Level"`),
   * which is how a column of it is spelt on both sides once the catalog has resolved it.
   */
  readonly printed?: string
}

/** PostgreSQL keeps at most NAMEDATALEN - 1 bytes of a label, and refuses longer ones. */
const MAX_LABEL_BYTES = 63

/**
 * `public.call_status`, `audit."Level"`: the schema-qualified spelling a declared enum column carries
 * until the catalog resolves it, and the one DDL names it by, so no `search_path` changes its meaning.
 */
export function enumSpelling(model: Pick<EnumModel, 'schema' | 'name'>): string {
  return `${quoteIdentifierIfNeeded(model.schema)}.${quoteIdentifierIfNeeded(model.name)}`
}

/** `call_status[]` → `call_status`: the type an array column's elements have (the type itself otherwise). */
export function elementTypeOf(type: string): string {
  return type.replace(/(\[\d*\])+$/, '')
}

/** `public.call_status`-style key, unique within a model (like `tableKey`). */
export function enumKey(model: Pick<EnumModel, 'schema' | 'name'>): string {
  return `${model.schema}.${model.name}`
}

export function sortEnums<T extends Pick<EnumModel, 'schema' | 'name'>>(enums: readonly T[]): T[] {
  return [...enums].sort((a, b) => compareText(enumKey(a), enumKey(b)))
}

/** `'queued', 'ringing'`: labels as SQL literals, for messages. */
export function labelList(labels: readonly string[]): string {
  return labels.length === 0 ? 'no labels' : labels.map((label) => `'${label.replaceAll("'", "''")}'`).join(', ')
}

/**
 * The enums a schema declares: those given to `defineSchema` and those its
 * columns use, each once. Problems (a bad label, one name declared with two
 * label lists, a name a table of the same schema already takes) are reported
 * through `problems`, each naming where the enum is declared.
 */
export function enumsFromDefinition(
  definition: SchemaDefinition,
  tableNames: ReadonlySet<string>,
  checkIdentifier: (name: unknown, what: () => string) => void,
  problems: string[],
): EnumModel[] {
  const declared = [...(definition.enums ?? [])]
  for (const table of definition.tables) {
    if (table?.kind !== 'table-definition') continue
    for (const column of Object.values(table.columns)) {
      const used = column?.spec?.enum
      if (used) declared.push(used)
    }
  }

  const found = new Map<string, { readonly definition: EnumDefinition; readonly model: EnumModel }>()
  for (const definition of declared) {
    const key = enumKey(definition)
    const earlier = found.get(key)
    if (earlier) {
      if (earlier.definition !== definition && !sameLabels(earlier.model.labels, definition.labels)) {
        problems.push(`enum ${displayTableName(definition)} is declared twice with different labels: at ${locate(definition)} and at ${locate(earlier.definition)}`)
      }
      continue
    }
    const where = () => locate(definition)
    checkIdentifier(definition.schema, () => `schema name of ${where()}`)
    checkIdentifier(definition.name, () => `enum name ${where()}`)
    if (tableNames.has(key)) problems.push(`${where()}: a table of the same name exists in schema ${definition.schema}; PostgreSQL gives each table a type of its name, so pick another`)
    const labels = Array.isArray(definition.labels) ? definition.labels : []
    if (!Array.isArray(definition.labels)) problems.push(`${where()}: labels must be an array of strings`)
    const seen = new Set<string>()
    for (const label of labels) {
      if (typeof label !== 'string') problems.push(`${where()}: label ${String(label)} is not a string`)
      else if (label.includes('\0')) problems.push(`${where()}: a label contains a NUL character`)
      else if (Buffer.byteLength(label) > MAX_LABEL_BYTES) problems.push(`${where()}: label '${label}' is over ${MAX_LABEL_BYTES} bytes, which PostgreSQL refuses`)
      else if (seen.has(label)) problems.push(`${where()}: label '${label}' is listed twice`)
      seen.add(String(label))
    }
    found.set(key, { definition, model: { schema: definition.schema, name: definition.name, labels: [...labels] } })
  }
  return sortEnums([...found.values()].map(({ model }) => model))
}

/** The same labels in the same order. */
export function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i])
}

function locate(definition: EnumDefinition): string {
  const name = `enum ${displayTableName(definition)}`
  return definition.definedAt ? `${name} (${definition.definedAt})` : name
}
