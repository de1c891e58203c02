import type { IndexKeySpec } from '../dsl/indexes.js'

/**
 * Index names as PostgreSQL chooses them when `CREATE INDEX` or `ADD UNIQUE`
 * is given none (`ChooseIndexName`, `ChooseIndexColumnNames`,
 * `makeObjectName` in its source), so that an index made by hand without a
 * name is recognised as the declared one. `test/index-names.test.ts` checks
 * them against PostgreSQL itself.
 */

/** PostgreSQL's NAMEDATALEN - 1. */
export const MAX_NAME_BYTES = 63

/**
 * Chooses index names as PostgreSQL's `ChooseIndexName` does: `<table>_<columns>_<label>`,
 * each part cut (longer one first) so the whole fits 63 bytes, and `<label>1`, `<label>2`, ...
 * when the name is taken. Explicit names are checked, not changed.
 */
export class NameChooser {
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
  // A UTF-16 unit is at most 3 UTF-8 bytes: most names need no measuring at all.
  if (text.length * 3 <= bytes || Buffer.byteLength(text) <= bytes) return text
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
