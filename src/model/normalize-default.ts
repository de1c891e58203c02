import { baseOfType, canonicalType, isNumericType } from './normalize-type.js'

/**
 * Default normalization: a declared default and the expression PostgreSQL
 * stores for it (`pg_get_expr` on `pg_attrdef`) become the same text.
 *
 * PostgreSQL decorates constants when it deparses them. Observed on 14 to 18:
 *   'queued'          on text             → 'queued'::text
 *   'x'               on varchar(20)      → 'x'::character varying
 *   'ab'              on char(3)          → 'ab'::bpchar
 *   -1                on integer          → '-1'::integer
 *   -5                on bigint           → '-5'::integer   (the literal's type, not the column's)
 *   -0.5              on double precision → '-0.5'::numeric
 *   current_timestamp                     → CURRENT_TIMESTAMP
 *   serial                                → nextval('t_id_seq'::regclass)
 *   '{"bb":1,"a":2}'  on jsonb            → '{"a": 2, "bb": 1}'::jsonb   (parsed and re-rendered)
 * The canonical form removes exactly these decorations and nothing that
 * changes meaning; `test/normalize-default.test.ts` round-trips each through
 * a real server.
 */

/** Canonical form of a serial column's `nextval(...)` default: the sequence name is PostgreSQL's choice. */
export const SEQUENCE_DEFAULT = 'nextval(<owned sequence>)'

/** Canonical text of a default expression, or `null` when it is no default at all (`NULL`). */
export function normalizeDefault(expression: string, columnType: string): string | null {
  const text = foldOutsideQuotes(expression.trim())
  if (/^null(::.+)?$/.test(text)) return null
  if (/^nextval\('(?:[^']|'')+'(?:::regclass)?\)$/.test(text)) return SEQUENCE_DEFAULT

  const literal = /^'((?:[^']|'')*)'::(.+)$/.exec(text) ?? /^(-?[0-9.e+]+)::(.+)$/.exec(text)
  if (literal) {
    const [, value = '', castType = ''] = literal
    const cast = canonicalType(castType)
    if (isNumericType(columnType) && isNumericType(cast) && isNumberLiteral(value)) return value
    if (castMatchesColumn(cast, columnType)) return canonicalLiteral(value, columnType)
  }
  const bare = /^'((?:[^']|'')*)'$/.exec(text)
  return bare ? canonicalLiteral(bare[1] ?? '', columnType) : text
}

/**
 * A string literal's canonical text. A `jsonb` value is stored parsed, so
 * PostgreSQL prints it back re-rendered (keys reordered, spaces added):
 * compare the JSON values, not their spelling.
 */
function canonicalLiteral(quoted: string, columnType: string): string {
  if (columnType === 'jsonb') {
    try {
      return `'${stableJson(JSON.parse(quoted.replaceAll("''", "'"))).replaceAll("'", "''")}'`
    } catch {
      // Not JSON: PostgreSQL would have refused it; leave it for the diff to show.
    }
  }
  return `'${quoted}'`
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The `::type` PostgreSQL adds to a literal of the column's own type. */
function castMatchesColumn(cast: string, columnType: string): boolean {
  const castBase = baseOfType(cast)
  const columnBase = baseOfType(columnType)
  return castBase === columnBase || (castBase === 'bpchar' && columnBase === 'character')
}

function isNumberLiteral(text: string): boolean {
  return /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/.test(text)
}

/**
 * Lower-cases and collapses white space outside string literals and quoted
 * identifiers: SQL keywords and unquoted names are case-insensitive, quoted
 * text is not.
 */
function foldOutsideQuotes(text: string): string {
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
