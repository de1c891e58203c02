import { INDEX_METHODS, type IndexKeySpec, type IndexMethod } from '../dsl/indexes.js'
import type { TableDefinition } from '../dsl/table.js'
import { compareText } from './model.js'

/**
 * Indexes and unique constraints in the normalized model.
 *
 * The declared side keeps the definition as written (to render the DDL);
 * both sides carry `canonical`, PostgreSQL's own spelling of everything after
 * `USING` in `pg_get_indexdef` (method, keys with order, nulls, operator
 * class and collation, `INCLUDE`, `WITH`, `WHERE`). The live side reads it
 * from the catalog; the declared side gets it by building the declared index
 * on an empty temporary copy of its table (see `introspect/index-probe.ts`),
 * so `LOWER(x)` and `lower(x)`, `status = 'queued'` and
 * `(status = 'queued'::text)` compare equal, as PostgreSQL sees them.
 */

export type { IndexMethod }

export interface IndexKeyModel {
  readonly column: string | null
  readonly expression: string | null
  readonly descending: boolean
  /** Explicit `NULLS FIRST`/`LAST`; `null` for the default. */
  readonly nullsFirst: boolean | null
  readonly opclass: string | null
}

/** An index as declared: what the DDL is rendered from. */
export interface IndexDefinition {
  readonly method: IndexMethod
  readonly keys: readonly IndexKeyModel[]
  readonly include: readonly string[]
  readonly where: string | null
}

export interface IndexModel {
  readonly name: string
  readonly unique: boolean
  /** Backs a UNIQUE constraint of the same name (which other tables' foreign keys can reference). */
  readonly constraint: boolean
  /** As declared; `null` on the live side, which has only PostgreSQL's spelling. */
  readonly definition: IndexDefinition | null
  /** PostgreSQL's spelling from `USING` on: what the diff compares. `null` on a declared index until probed. */
  readonly canonical: string | null
  /** `pg_index.indisvalid`: false after a failed or cancelled concurrent build. Declared indexes are valid. */
  readonly valid: boolean
}

/** `USING btree (created_at DESC) WHERE (...)`: a declared definition in messages, before PostgreSQL has spelled it. */
export function writtenDefinition(definition: IndexDefinition): string {
  const keys = definition.keys.map((key) => {
    const parts = [key.column ?? `(${key.expression})`]
    if (key.opclass) parts.push(key.opclass)
    if (key.descending) parts.push('DESC')
    if (key.nullsFirst !== null) parts.push(key.nullsFirst ? 'NULLS FIRST' : 'NULLS LAST')
    return parts.join(' ')
  })
  const include = definition.include.length > 0 ? ` INCLUDE (${definition.include.join(', ')})` : ''
  const where = definition.where === null ? '' : ` WHERE (${definition.where})`
  return `USING ${definition.method} (${keys.join(', ')})${include}${where}`
}

/** PostgreSQL's NAMEDATALEN - 1. */
const MAX_NAME_BYTES = 63

/**
 * The indexes a table declares (its `.unique()` columns, `unique` and
 * `indexes` options), named as PostgreSQL names them when no name is given,
 * sorted by name. Problems go to `problems`, each naming the table.
 *
 * `taken` holds the relation names already used in the table's PostgreSQL
 * schema (tables, primary keys, earlier indexes): index names share that
 * namespace, so a derived name that is taken gets PostgreSQL's numbered form.
 */
export function indexesFromDefinition(
  declared: TableDefinition,
  columnNames: readonly string[],
  taken: Set<string>,
  where: () => string,
  problems: string[],
): IndexModel[] {
  const names = new NameChooser(declared.name, taken)
  const indexes: IndexModel[] = []
  const known = new Set(columnNames)
  const checkColumn = (column: unknown, what: string) => {
    if (typeof column !== 'string' || !known.has(column)) problems.push(`${where()}: ${what} names column ${String(column)}, which the table does not declare`)
  }
  const btree = (columns: readonly string[]): IndexDefinition => ({
    method: 'btree',
    keys: columns.map((column) => ({ column, expression: null, descending: false, nullsFirst: null, opclass: null })),
    include: [],
    where: null,
  })

  // Constraints first, as PostgreSQL creates them with the table; then indexes, in declaration order.
  const uniqueColumns = Object.entries(declared.columns)
    .filter(([, column]) => column?.spec?.unique === true)
    .map(([name]) => ({ columns: [name], name: null as string | null }))
  for (const spec of [...uniqueColumns, ...(declared.unique ?? [])]) {
    if (!spec || !Array.isArray(spec.columns) || spec.columns.length === 0) {
      problems.push(`${where()}: a unique constraint needs at least one column: declare it with unique('column', ...)`)
      continue
    }
    for (const column of spec.columns) checkColumn(column, 'a unique constraint')
    const name = names.take(spec.name, spec.columns, 'key', where, problems)
    indexes.push({ name, unique: true, constraint: true, definition: btree(spec.columns), canonical: null, valid: true })
  }

  for (const spec of declared.indexes ?? []) {
    if (!spec || !Array.isArray(spec.keys) || spec.keys.length === 0) {
      problems.push(`${where()}: an index needs at least one key: declare it with index('column', ...)`)
      continue
    }
    if (!INDEX_METHODS.includes(spec.method)) {
      problems.push(`${where()}: index method ${String(spec.method)} is not one of ${INDEX_METHODS.join(', ')}`)
    }
    for (const key of spec.keys) {
      if (key.column !== null) checkColumn(key.column, 'an index key')
      else if (typeof key.expression !== 'string' || key.expression.trim() === '') problems.push(`${where()}: an index expression is empty`)
    }
    for (const column of spec.include) checkColumn(column, "an index's include")
    if (spec.where !== null && spec.where.trim() === '') problems.push(`${where()}: an index's where predicate is empty`)
    const name = names.take(spec.name, spec.keys.map(keyNamePart), 'idx', where, problems)
    indexes.push({
      name,
      unique: spec.unique,
      constraint: false,
      definition: { method: spec.method, keys: spec.keys.map(keyModel), include: spec.include, where: spec.where },
      canonical: null,
      valid: true,
    })
  }
  return indexes.sort((a, b) => compareText(a.name, b.name))
}

function keyModel(key: IndexKeySpec): IndexKeyModel {
  return { column: key.column, expression: key.expression, descending: key.descending, nullsFirst: key.nullsFirst, opclass: key.opclass }
}

/**
 * Chooses index names as PostgreSQL's `ChooseIndexName` does: `<table>_<columns>_<label>`,
 * each part cut (longer one first) so the whole fits 63 bytes, and `<label>1`, `<label>2`, ...
 * when the name is taken. Explicit names are checked, not changed.
 */
class NameChooser {
  readonly #taken: Set<string>
  readonly #table: string

  constructor(table: string, taken: Set<string>) {
    this.#table = table
    this.#taken = taken
  }

  take(given: string | null, parts: readonly string[], label: string, where: () => string, problems: string[]): string {
    if (given !== null) {
      if (typeof given !== 'string' || given === '') problems.push(`${where()}: an index name must be a non-empty string`)
      else if (Buffer.byteLength(given) > MAX_NAME_BYTES) {
        problems.push(`${where()}: index name "${given}" is ${Buffer.byteLength(given)} bytes; PostgreSQL keeps only ${MAX_NAME_BYTES} and would silently truncate it`)
      } else if (this.#taken.has(given)) {
        problems.push(`${where()}: index name "${given}" is already the name of another index or table in the same PostgreSQL schema`)
      }
      this.#taken.add(given)
      return given
    }
    const addition = indexNameAddition(dedupeColumnNames(parts))
    for (let pass = 0; ; pass++) {
      const candidate = makeObjectName(this.#table, addition, pass === 0 ? label : `${label}${pass}`)
      if (!this.#taken.has(candidate)) {
        this.#taken.add(candidate)
        return candidate
      }
    }
  }
}

/**
 * The name part PostgreSQL derives for a key: the column, or for an
 * expression the function it calls (`lower(email)` gives `lower`), the column
 * a cast converts (`(id)::text` gives `id`), or `expr` for anything else.
 */
export function keyNamePart(key: Pick<IndexKeySpec, 'column' | 'expression'>): string {
  if (key.column !== null) return key.column
  return expressionNamePart(key.expression ?? '')
}

const IDENT = String.raw`(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*|"(?:[^"]|"")+")`

function expressionNamePart(text: string): string {
  let expr = stripOuterParens(text.trim())
  // A trailing cast does not change the name: `lower(x)::text` is still `lower`, `(a)::text` is `a`.
  for (;;) {
    const cast = new RegExp(String.raw`^([\s\S]*?)\s*::\s*${IDENT}(?:\s*\.\s*${IDENT})?(?:\s*\([\d\s,]*\))?(?:\s*\[\])*$`).exec(expr)
    if (!cast || !balanced(cast[1] ?? '')) break
    expr = stripOuterParens((cast[1] ?? '').trim())
  }
  const castCall = /^cast\s*\(([\s\S]*)\)$/i.exec(expr)
  if (castCall && balanced(castCall[1] ?? '')) {
    const inner = /^([\s\S]*?)\s+as\s+[\s\S]+$/i.exec(castCall[1] ?? '')
    if (inner) return expressionNamePart(inner[1] ?? '')
  }
  const column = new RegExp(`^(?:${IDENT}\\s*\\.\\s*)*(${IDENT})$`).exec(expr)
  if (column) return identifierText(column[1] ?? '')
  const call = new RegExp(`^(?:${IDENT}\\s*\\.\\s*)*(${IDENT})\\s*\\(([\\s\\S]*)\\)$`).exec(expr)
  if (call && balanced(call[2] ?? '')) return identifierText(call[1] ?? '')
  return 'expr'
}

/** An identifier as PostgreSQL reads it: unquoted folds to lower case, quoted keeps its text. */
function identifierText(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replaceAll('""', '"') : token.toLowerCase()
}

function stripOuterParens(text: string): string {
  let current = text
  while (current.startsWith('(') && current.endsWith(')') && balanced(current.slice(1, -1))) current = current.slice(1, -1).trim()
  return current
}

/** Parentheses balance outside string literals and quoted identifiers, never going below zero. */
function balanced(text: string): boolean {
  let depth = 0
  let quote: string | null = null
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null
      continue
    }
    if (ch === "'" || ch === '"') quote = ch
    else if (ch === '(') depth++
    else if (ch === ')' && --depth < 0) return false
  }
  return depth === 0 && quote === null
}

/** A repeated column gets a number, as in PostgreSQL: `(a, a)` names `a_a1`. */
function dedupeColumnNames(parts: readonly string[]): string[] {
  const result: string[] = []
  for (const original of parts) {
    let current = original
    for (let i = 1; result.includes(current); i++) {
      const suffix = String(i)
      current = clipBytes(original, MAX_NAME_BYTES - suffix.length) + suffix
    }
    result.push(current)
  }
  return result
}

/** `ChooseIndexNameAddition`: names joined by `_`, stopping once 63 bytes are reached. */
function indexNameAddition(parts: readonly string[]): string {
  let text = ''
  for (const part of parts) {
    if (text.length > 0) text += '_'
    text += clipBytes(part, MAX_NAME_BYTES)
    if (Buffer.byteLength(text) > MAX_NAME_BYTES) break
  }
  return text
}

/** `makeObjectName`: `name1_name2_label`, the longer of the two names cut first, on character boundaries. */
export function makeObjectName(name1: string, name2: string, label: string): string {
  const overhead = (name2 ? 1 : 0) + label.length + 1
  const available = MAX_NAME_BYTES - overhead
  let bytes1 = Buffer.byteLength(name1)
  let bytes2 = Buffer.byteLength(name2)
  while (bytes1 + bytes2 > available) {
    if (bytes1 > bytes2) bytes1--
    else bytes2--
  }
  const head = clipBytes(name1, bytes1)
  return name2 ? `${head}_${clipBytes(name2, bytes2)}_${label}` : `${head}_${label}`
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes that ends on a character boundary. */
export function clipBytes(text: string, bytes: number): string {
  let result = ''
  let used = 0
  for (const ch of text) {
    const size = Buffer.byteLength(ch)
    if (used + size > bytes) break
    result += ch
    used += size
  }
  return result
}
