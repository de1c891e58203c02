/**
 * Small readers for SQL text as PostgreSQL prints it back (`pg_get_expr`,
 * `format_type`, EXPLAIN output): quoting rules, folding, splitting lists.
 * They never guess at meaning; callers decide what a piece is.
 */

/**
 * Lower-cases and collapses white space outside string literals and quoted
 * identifiers: SQL keywords and unquoted names are case-insensitive, quoted
 * text is not.
 */
export function foldOutsideQuotes(text: string): string {
  let out = ''
  let quote: "'" | '"' | null = null
  let pendingSpace = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (quote) {
      out += ch
      if (ch === quote) {
        // A doubled quote is an escaped quote, not the end.
        if (text[i + 1] === quote) {
          out += quote
          i++
        } else {
          quote = null
        }
      }
      continue
    }
    if (/\s/.test(ch)) {
      pendingSpace = out.length > 0
      continue
    }
    if (pendingSpace) {
      // Space matters only between two word characters (`at time zone`), not around punctuation.
      if (/\w/.test(out[out.length - 1] ?? '') && /\w/.test(ch)) out += ' '
      pendingSpace = false
    }
    if (ch === "'" || ch === '"') quote = ch
    out += ch === "'" || ch === '"' ? ch : ch.toLowerCase()
  }
  return out
}

/**
 * Each character of `text` that stands outside string literals and quoted
 * identifiers, with the depth of parentheses and brackets around it.
 */
function* unquoted(text: string): Generator<{ readonly index: number; readonly ch: string; readonly depth: number }> {
  let depth = 0
  let quote: string | null = null
  for (let index = 0; index < text.length; index++) {
    const ch = text[index] as string
    if (quote) {
      if (ch === quote) {
        // A doubled quote is an escaped quote, not the end.
        if (text[index + 1] === quote) index++
        else quote = null
      }
      continue
    }
    if (ch === "'" || ch === '"') {
      quote = ch
      continue
    }
    if (ch === ')' || ch === ']') depth--
    yield { index, ch, depth }
    if (ch === '(' || ch === '[') depth++
  }
}

/**
 * Whether `text` is one SQL expression as far as its punctuation goes:
 * quotes closed, parentheses and brackets balanced, and no `,`, `;` or
 * comment outside them. What the schema declares as an expression is written into DDL as it
 * is; this keeps it from closing the clause it stands in and adding another.
 */
export function isSingleExpression(text: string): boolean {
  let depth = 0
  for (const { index, ch, depth: at } of unquoted(text)) {
    if ((ch === ',' || ch === ';') && at === 0) return false
    // A comment would swallow whatever the DDL puts after the expression.
    if ((ch === '-' && text[index + 1] === '-') || (ch === '/' && text[index + 1] === '*')) return false
    depth = ch === '(' || ch === '[' ? at + 1 : at
    if (depth < 0) return false
  }
  return depth === 0 && quotesClosed(text)
}

function quotesClosed(text: string): boolean {
  let quote: string | null = null
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote) {
      if (ch === quote) {
        if (text[i + 1] === quote) i++
        else quote = null
      }
    } else if (ch === "'" || ch === '"') {
      quote = ch
    }
  }
  return quote === null
}

/** The lower-cased words of `text` outside quotes, parentheses and brackets: `now() AT TIME ZONE 'utc'` → at, time, zone. */
export function topLevelWords(text: string): string[] {
  let masked = ''
  let at = 0
  for (const { index, ch, depth } of unquoted(text)) {
    masked += ' '.repeat(index - at) + (depth === 0 && ch !== '(' && ch !== '[' ? ch : ' ')
    at = index + 1
  }
  return [...masked.toLowerCase().matchAll(/[a-z_][a-z0-9_$]*/g)].map((m) => m[0])
}

/**
 * Splits `text` at `separator` where it stands outside quotes, parentheses
 * and brackets: the items of `a, f(b, c), 'd,e'`.
 */
export function splitTopLevel(text: string, separator = ','): string[] {
  const items: string[] = []
  let start = 0
  for (const { index, ch, depth } of unquoted(text)) {
    if (ch === separator && depth === 0) {
      items.push(text.slice(start, index).trim())
      start = index + 1
    }
  }
  items.push(text.slice(start).trim())
  return items
}

/** The text inside one whole `'...'` literal (quotes undoubled), or `null` if `text` is not exactly one. */
export function stringLiteralValue(text: string): string | null {
  const match = /^'((?:[^']|'')*)'$/.exec(text)
  return match ? (match[1] as string).replaceAll("''", "'") : null
}

/** `text` as a standard SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** `text` without parentheses that enclose all of it: `((a))` → `a`, `(a) + (b)` unchanged. */
export function stripOuterParentheses(text: string): string {
  let current = text.trim()
  while (current.startsWith('(') && closingParenthesis(current) === current.length - 1) current = current.slice(1, -1).trim()
  return current
}

/** Index of the `)` that closes the `(` at index 0; -1 if none. */
function closingParenthesis(text: string): number {
  for (const { index, ch, depth } of unquoted(text)) if (ch === ')' && depth === 0) return index
  return -1
}

/**
 * Splits a trailing `::type` cast off an expression: `'x'::text` → [`'x'`, `text`].
 * Only a cast at the top level counts, so `f(a::int)` has none.
 */
export function splitCast(text: string): [expression: string, type: string] | null {
  let last = -1
  for (const { index, ch, depth } of unquoted(text)) {
    if (depth === 0 && ch === ':' && text[index + 1] === ':') last = index
  }
  if (last < 0) return null
  const type = text.slice(last + 2).trim()
  // A cast type is a name with optional modifiers and brackets; anything else means the `::` was not the last operator.
  if (!CAST_TYPE.test(type)) return null
  return [text.slice(0, last).trim(), type]
}

/** `text`, `double precision`, `"audit ☂"."o'k ✓"`, `numeric(12,2)`, `timestamp(3) with time zone`, `mood[]`. */
const TYPE_WORD = String.raw`(?:[\p{L}_][\p{L}\p{N}_$]*|"(?:[^"]|"")+")`
const CAST_TYPE = new RegExp(String.raw`^${TYPE_WORD}(?:\s*\.\s*${TYPE_WORD}| ${TYPE_WORD})*(\([\d, ]*\))?( with(out)? time zone)?(\[\d*\])*$`, 'iu')

/** Parts of a possibly qualified name as PostgreSQL reads them: unquoted parts fold to lower case. */
export function parseQualifiedName(text: string): string[] | null {
  const parts: string[] = []
  let i = 0
  while (i < text.length) {
    if (text[i] === '"') {
      let part = ''
      i++
      for (;;) {
        if (i >= text.length) return null
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"'
            i += 2
            continue
          }
          i++
          break
        }
        part += text[i]
        i++
      }
      parts.push(part)
    } else {
      const match = /^[\p{L}_][\p{L}\p{N}_$]*/u.exec(text.slice(i))
      if (!match) return null
      parts.push(match[0].toLowerCase())
      i += match[0].length
    }
    if (i === text.length) break
    if (text[i] !== '.') return null
    i++
    if (i === text.length) return null
  }
  return parts.length > 0 ? parts : null
}

/** An identifier as PostgreSQL's `quote_ident` prints it: bare when it can be, quoted otherwise. */
export function quoteIdentifierIfNeeded(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}
