import { type ArrayItem, renderArrayLiteral } from './array-literal.js'
import { integerDigits, isDecimalText, isWholeInRange, parseDecimal, roundDecimal } from './decimal.js'
import { baseOfType, isNumericType } from './normalize-type.js'
import { quoteLiteral } from './sql-text.js'

/**
 * Renders a `.default(value)` as the SQL literal its column's type reads:
 * numbers as numbers (`'0.0'` on numeric becomes `0.0`), arrays as array
 * literals (`[]` becomes `'{}'`, never JSON), JSON as JSON text, dates as
 * ISO text. A value the type cannot hold is a problem reported when the
 * schema loads, before any database is involved; what only the target can
 * judge (an enum's labels, a domain's check) is checked at plan time.
 */

export type Rendered = { readonly sql: string } | { readonly problem: string }

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
}

/** `type` is the column's canonical type; `catalogType` when it is one the target defines (`c.type('mood')`). */
export function renderDefault(value: unknown, type: string, catalogType: boolean): Rendered {
  if (value === null) return { sql: 'NULL' }
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) return problem(value, 'is not an array; declare an array default as a JavaScript array')
    const items = arrayItems(value, type.slice(0, -2), catalogType)
    return 'problem' in items ? items : checkedLiteral(renderArrayLiteral(items.items))
  }
  const text = scalarText(value, type, catalogType)
  if ('problem' in text) return text
  if (text.bare) return { sql: text.text }
  return checkedLiteral(text.text)
}

interface ScalarText {
  readonly text: string
  /** A number or keyword written without quotes. */
  readonly bare: boolean
}

/** The text a scalar default stands for in its column, or the reason it cannot. */
function scalarText(value: unknown, type: string, catalogType: boolean): ScalarText | { readonly problem: string } {
  const base = baseOfType(type)
  if (catalogType) return catalogText(value)
  if (isNumericType(type)) return numberText(value, type)
  switch (base) {
    case 'boolean':
      return typeof value === 'boolean' ? { text: String(value), bare: true } : problem(value, 'is not a boolean')
    case 'json':
    case 'jsonb':
      if (typeof value === 'string') {
        try {
          JSON.parse(value)
        } catch {
          return problem(value, 'is not JSON text; to default to a JSON string, pass JSON.stringify(value)')
        }
        return { text: value, bare: false }
      }
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
        return problem(value, `is not a value for a ${type} column`)
      }
      return { text: JSON.stringify(value), bare: false }
    case 'date':
      return value instanceof Date ? dateText(value, 'date') : stringText(value, type)
    case 'timestamp with time zone':
      return value instanceof Date ? dateText(value, 'instant') : stringText(value, type)
    case 'timestamp without time zone':
      return value instanceof Date ? dateText(value, 'local') : stringText(value, type)
    case 'bytea':
      return value instanceof Uint8Array ? { text: `\\x${Buffer.from(value).toString('hex')}`, bare: false } : stringText(value, type)
    case 'interval':
      if (value && typeof value === 'object' && typeof (value as { toPostgres?: unknown }).toPostgres === 'function') {
        return { text: String((value as { toPostgres(): unknown }).toPostgres()), bare: false }
      }
      return stringText(value, type)
    default:
      return lengthChecked(stringText(value, type), type)
  }
}

function numberText(value: unknown, type: string): ScalarText | { readonly problem: string } {
  const base = baseOfType(type)
  const range = INTEGER_RANGES[base]
  let text: string
  if (typeof value === 'number') {
    if (Number.isNaN(value) || !Number.isFinite(value)) {
      if (range) return problem(value, 'is not a whole number')
      return { text: Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity', bare: false }
    }
    text = String(value)
  } else if (typeof value === 'bigint') {
    text = value.toString()
  } else if (typeof value === 'string') {
    text = value.trim()
    if (!range && /^[+-]?(nan|infinity|inf)$/i.test(text)) return { text, bare: false }
  } else {
    return problem(value, `is not a value for a ${type} column`)
  }
  const decimal = isDecimalText(text) ? parseDecimal(text) : null
  if (decimal === null) return problem(value, 'is not a number')
  if (range) {
    if (decimal.exponent < 0) return problem(value, `is not a whole number; an ${base} column stores whole numbers`)
    if (!isWholeInRange(decimal, range[0], range[1])) return problem(value, `is outside the range of ${base}`)
  }
  const numeric = /^numeric\((\d+),(-?\d+)\)$/.exec(type)
  if (numeric) {
    const [precision, scale] = [Number(numeric[1]), Number(numeric[2])]
    const allowed = precision - scale
    if (integerDigits(roundDecimal(decimal, scale)) > allowed) {
      return problem(value, `does not fit ${type} (at most ${allowed} digit${allowed === 1 ? '' : 's'} before the point)`)
    }
  }
  return { text, bare: true }
}

/** A type only the target knows: strings quoted, numbers and booleans bare; the target judges them at plan time. */
function catalogText(value: unknown): ScalarText | { readonly problem: string } {
  if (typeof value === 'string') return { text: value, bare: false }
  if (typeof value === 'number' && Number.isFinite(value)) return { text: String(value), bare: true }
  if (typeof value === 'bigint') return { text: value.toString(), bare: true }
  if (typeof value === 'boolean') return { text: String(value), bare: true }
  if (value instanceof Date) return dateText(value, 'instant')
  return problem(value, 'is not a value this tool can write as a literal; use .defaultSql(...)')
}

function stringText(value: unknown, type: string): ScalarText | { readonly problem: string } {
  return typeof value === 'string' ? { text: value, bare: false } : problem(value, `is not a value for a ${type} column`)
}

/** `varchar(n)` and `char(n)` hold at most `n` characters; PostgreSQL would accept the DDL and fail every insert. */
function lengthChecked(text: ScalarText | { readonly problem: string }, type: string): ScalarText | { readonly problem: string } {
  const limit = /^(character varying|character)\((\d+)\)$/.exec(type)
  if ('problem' in text || !limit) return text
  return [...text.text].length > Number(limit[2]) ? problem(text.text, `is longer than ${type} allows`) : text
}

/** A `Date` in the form each column reads without a time zone shift: UTC throughout. */
function dateText(value: Date, as: 'date' | 'instant' | 'local'): ScalarText | { readonly problem: string } {
  if (Number.isNaN(value.getTime())) return problem(String(value), 'is not a valid date')
  const iso = value.toISOString()
  if (as === 'date') return { text: iso.slice(0, 10), bare: false }
  if (as === 'local') return { text: iso.slice(0, 23).replace('T', ' '), bare: false }
  return { text: iso, bare: false }
}

function arrayItems(
  values: readonly unknown[],
  elementType: string,
  catalogType: boolean,
): { readonly items: ArrayItem[] } | { readonly problem: string } {
  const items: ArrayItem[] = []
  for (const value of values) {
    if (value === null) {
      items.push(null)
    } else if (Array.isArray(value)) {
      const nested = arrayItems(value, elementType, catalogType)
      if ('problem' in nested) return nested
      items.push(nested.items)
    } else {
      const text = scalarText(value, elementType, catalogType)
      if ('problem' in text) return { problem: text.problem.replace(/^default /, 'default element ') }
      items.push(text.text)
    }
  }
  return { items }
}

function checkedLiteral(text: string): Rendered {
  if (text.includes('\0')) return { problem: 'a default may not contain a NUL character' }
  return { sql: quoteLiteral(text) }
}

function problem(value: unknown, why: string): { readonly problem: string } {
  return { problem: `default ${shown(value)} ${why}` }
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
