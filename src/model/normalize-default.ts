import { type ArrayItem, parseArrayConstructor, parseArrayLiteral } from './array-literal.js'
import { decimalKey, isDecimalText, parseDecimal, roundDecimal } from './decimal.js'
import { memoized } from './memoized.js'
import type { ColumnDefault, SequenceRef } from './model.js'
import { baseOfType, canonicalType, isNumericType } from './normalize-type.js'
import {
  foldOutsideQuotes,
  parseQualifiedName,
  quoteIdentifierIfNeeded,
  splitCast,
  stringLiteralValue,
  stripOuterParentheses,
} from './sql-text.js'

/**
 * Default normalization: a declared default and the expression PostgreSQL
 * stores for it (`pg_get_expr` on `pg_attrdef`) become the same text when
 * they mean the same value.
 *
 * PostgreSQL decorates constants when it deparses them. Observed on 14 to 18:
 *   'queued'          on text             → 'queued'::text
 *   'x'               on varchar(20)      → 'x'::character varying
 *   'ab'              on char(3)          → 'ab'::bpchar
 *   -1                on integer          → '-1'::integer
 *   -5                on bigint           → '-5'::integer   (the literal's type, not the column's)
 *   -0.5              on double precision → '-0.5'::numeric
 *   '0.25'            on double precision → '0.25'::double precision
 *   1e20              on double precision → '100000000000000000000'::numeric
 *   0.005             on numeric(12,2)    → 0.005           (rounded to 0.01 only when a row is stored)
 *   '{}' / ARRAY[]::text[] on text[]      → '{}'::text[] / ARRAY[]::text[]   (kept as written)
 *   ARRAY['x','y']    on text[]           → ARRAY['x'::text, 'y'::text]
 *   current_timestamp                     → CURRENT_TIMESTAMP
 *   NULL::timestamp                       → no default at all; NULL::varchar → NULL::character varying
 *   nextval('s')                          → nextval('s'::regclass)
 *   '{"bb":1,"a":2}'  on jsonb            → '{"a": 2, "bb": 1}'::jsonb   (parsed and re-rendered)
 * So numbers compare by value (rounded to the column's scale), arrays
 * element by element, jsonb by value, NULL as no default, and a sequence by
 * its name. Spellings this cannot settle are settled by the server
 * (`diff/settle.ts`). `test/normalize-default.test.ts` holds the rules;
 * the acceptance and property tests round-trip them through real servers.
 */

/** Canonical text of a default expression, or `null` when it is no default at all (`NULL`). */
export function normalizeDefault(expression: string, columnType: string): string | null {
  const text = foldOutsideQuotes(expression.trim())
  if (/^null$/.test(withoutCasts(text))) return null

  const sequence = sequenceOfDefault(expression)
  if (sequence) return sequenceDefaultText({ schema: sequence.schema ?? 'public', name: sequence.name })

  if (columnType.endsWith('[]')) {
    const items = arrayItems(text, columnType)
    if (items) return `array:${JSON.stringify(items.map((item) => canonicalElement(item, columnType.slice(0, -2))))}`
  }
  if (isNumericType(columnType)) {
    const value = numberIn(text)
    if (value !== null) return `number:${numberKey(value, columnType)}`
  }

  const cast = splitCast(text)
  const literal = cast ? stringLiteralValue(cast[0]) : stringLiteralValue(text)
  if (literal !== null && (!cast || castMatchesColumn(canonicalType(cast[1]), columnType))) {
    return canonicalLiteral(literal, columnType)
  }
  return text
}

/** A default's model from its SQL, or `null` when it is `NULL` (no default). */
export function defaultModel(sql: string, type: string): ColumnDefault | null {
  const canonical = normalizeDefault(sql, type)
  if (canonical === null) return null
  const sequence = sequenceOfDefault(sql)
  return sequence ? { sql, canonical, sequence } : { sql, canonical }
}

/**
 * {@link defaultModel}, remembering each answer: for building one model, where
 * a schema spells few distinct defaults over many columns.
 */
export function memoizedDefaultModel(): (sql: string, type: string) => ColumnDefault | null {
  const byText = memoized((typeAndSql) => {
    const at = typeAndSql.indexOf('\0')
    return defaultModel(typeAndSql.slice(at + 1), typeAndSql.slice(0, at))
  })
  return (sql, type) => byText(`${type}\0${sql}`)
}

/** The sequence a `nextval('name'::regclass)` default draws from, or `null` for any other expression. */
export function sequenceOfDefault(expression: string): SequenceRef | null {
  const match = /^nextval\s*\(\s*('(?:[^']|'')+')(?:\s*::\s*regclass)?\s*\)$/i.exec(stripOuterParentheses(expression.trim()))
  if (!match) return null
  const parts = parseQualifiedName(stringLiteralValue(match[1] as string) ?? '')
  if (!parts || parts.length > 2) return null
  return parts.length === 2 ? { schema: parts[0] as string, name: parts[1] as string } : { schema: null, name: parts[0] as string }
}

/** Canonical text of a default drawing from `sequence`: `nextval('public.invoice_numbers')`. */
export function sequenceDefaultText(sequence: { readonly schema: string; readonly name: string }): string {
  const qualified = `${quoteIdentifierIfNeeded(sequence.schema)}.${quoteIdentifierIfNeeded(sequence.name)}`
  return `nextval('${qualified.replaceAll("'", "''")}')`
}

/** Canonical text of a generation expression: folded, without enclosing parentheses. */
export function canonicalExpression(expression: string): string {
  return stripOuterParentheses(foldOutsideQuotes(expression.trim()))
}

/** `text` without enclosing parentheses and `::type` casts: `(NULL)::character varying` → `null`. */
function withoutCasts(text: string): string {
  let current = stripOuterParentheses(text)
  for (let cast = splitCast(current); cast; cast = splitCast(current)) current = stripOuterParentheses(cast[0])
  return current
}

/**
 * The number a default spells, through quotes, parentheses and casts to
 * numeric types (`'-1'::integer`, `(0)::numeric`, `'0.25'`); `null` when it is
 * not one. A cast to a non-numeric type changes meaning and stops the search.
 */
function numberIn(text: string): ReturnType<typeof parseDecimal> {
  let current = stripOuterParentheses(text)
  for (let cast = splitCast(current); cast; cast = splitCast(current)) {
    if (!isNumericType(canonicalType(cast[1]))) return null
    current = stripOuterParentheses(cast[0])
  }
  const quoted = stringLiteralValue(current)
  const candidate = quoted ?? current
  return isDecimalText(candidate) ? parseDecimal(candidate) : null
}

/** The value's key once rounded as the column stores it: integers to whole numbers, `numeric(p,s)` to `s` places. */
function numberKey(value: NonNullable<ReturnType<typeof parseDecimal>>, columnType: string): string {
  const base = baseOfType(columnType)
  if (base === 'smallint' || base === 'integer' || base === 'bigint') return decimalKey(roundDecimal(value, 0))
  const scale = /^numeric\(\d+,(-?\d+)\)/.exec(columnType)?.[1]
  return decimalKey(scale === undefined ? value : roundDecimal(value, Number(scale)))
}

/** The elements of an array default, from either spelling; `null` when it is neither. */
function arrayItems(text: string, columnType: string): ArrayItem[] | null {
  let current = stripOuterParentheses(text)
  const cast = splitCast(current)
  if (cast) {
    if (!castMatchesColumn(canonicalType(cast[1]), columnType)) return null
    current = stripOuterParentheses(cast[0])
  }
  const literal = stringLiteralValue(current)
  return literal !== null ? parseArrayLiteral(literal) : parseArrayConstructor(current)
}

/** An element as the element type reads it: numbers by value, booleans by truth, text as is. */
function canonicalElement(item: ArrayItem, elementType: string): unknown {
  if (item === null) return null
  if (typeof item !== 'string') return item.map((inner) => canonicalElement(inner, elementType))
  if (isNumericType(elementType) && isDecimalText(item)) return { number: numberKey(parseDecimal(item) as NonNullable<ReturnType<typeof parseDecimal>>, elementType) }
  if (baseOfType(elementType) === 'boolean') {
    const truth = booleanText(item)
    if (truth !== null) return { boolean: truth }
  }
  return item
}

/** PostgreSQL's boolean input spellings (`t`, `yes`, `on`, `1`, and prefixes of true/false/yes/no). */
export function booleanText(text: string): boolean | null {
  const word = text.trim().toLowerCase()
  if (word === '') return null
  if ('true'.startsWith(word) || 'yes'.startsWith(word) || word === 'on' || word === '1') return true
  if ('false'.startsWith(word) || 'no'.startsWith(word) || word === 'off' || word === '0') return false
  return null
}

/**
 * A string literal's canonical text. A `jsonb` value is stored parsed, so
 * PostgreSQL prints it back re-rendered (keys reordered, spaces added):
 * compare the JSON values, not their spelling.
 */
function canonicalLiteral(value: string, columnType: string): string {
  if (columnType === 'jsonb') {
    try {
      return `jsonb:${stableJson(JSON.parse(value))}`
    } catch {
      // Not JSON: PostgreSQL would have refused it; leave it for the diff to show.
    }
  }
  return `'${value.replaceAll("'", "''")}'`
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
