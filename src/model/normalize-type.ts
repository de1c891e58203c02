import { TypeSpecError } from '../errors.js'

/**
 * Type normalization: any spelling PostgreSQL accepts for a supported type
 * becomes the spelling `format_type()` prints for it, so `int4`, `int` and
 * `integer` all become `integer` and `timestamptz(3)` becomes
 * `timestamp(3) with time zone`.
 *
 * The rules mirror PostgreSQL's grammar and `format_type` (src/backend/utils/adt/format_type.c);
 * `test/normalize-type.test.ts` checks each one against a real server.
 */

export interface ParsedType {
  /** Canonical spelling, e.g. `bigint`, `numeric(10,2)`, `integer[]`. */
  readonly type: string
  /** `serial`, `bigserial`, `smallserial`: an integer column whose default is a sequence it owns. */
  readonly serial: boolean
}

type ModifierRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly max: number; readonly implicit?: number }
  | { readonly kind: 'numeric' }
  | { readonly kind: 'float' }
  | { readonly kind: 'precision'; readonly suffix?: string }
  | { readonly kind: 'interval' }

interface BaseType {
  readonly canonical: string
  readonly rule: ModifierRule
  readonly serial?: boolean
}

const none: ModifierRule = { kind: 'none' }
const MAX_VARCHAR = 10_485_760

/** Every accepted spelling (lower case, single spaces) mapped to its base type. */
const BASE_TYPES: ReadonlyMap<string, BaseType> = new Map<string, BaseType>([
  ...aliases(['smallint', 'int2'], { canonical: 'smallint', rule: none }),
  ...aliases(['integer', 'int', 'int4'], { canonical: 'integer', rule: none }),
  ...aliases(['bigint', 'int8'], { canonical: 'bigint', rule: none }),
  ...aliases(['smallserial', 'serial2'], { canonical: 'smallint', rule: none, serial: true }),
  ...aliases(['serial', 'serial4'], { canonical: 'integer', rule: none, serial: true }),
  ...aliases(['bigserial', 'serial8'], { canonical: 'bigint', rule: none, serial: true }),
  ...aliases(['numeric', 'decimal'], { canonical: 'numeric', rule: { kind: 'numeric' } }),
  ...aliases(['real', 'float4'], { canonical: 'real', rule: none }),
  ...aliases(['double precision', 'float8'], { canonical: 'double precision', rule: none }),
  ['float', { canonical: 'double precision', rule: { kind: 'float' } }],
  ['text', { canonical: 'text', rule: none }],
  ...aliases(['character varying', 'varchar', 'char varying'], {
    canonical: 'character varying',
    rule: { kind: 'length', max: MAX_VARCHAR },
  }),
  ...aliases(['character', 'char'], { canonical: 'character', rule: { kind: 'length', max: MAX_VARCHAR, implicit: 1 } }),
  // `bpchar` without a length is its own type (blank-padded, unbounded); with one it is `character(n)`.
  ['bpchar', { canonical: 'bpchar', rule: { kind: 'length', max: MAX_VARCHAR } }],
  ...aliases(['boolean', 'bool'], { canonical: 'boolean', rule: none }),
  ['date', { canonical: 'date', rule: none }],
  ...aliases(['time', 'time without time zone'], {
    canonical: 'time',
    rule: { kind: 'precision', suffix: 'without time zone' },
  }),
  ...aliases(['timetz', 'time with time zone'], { canonical: 'time', rule: { kind: 'precision', suffix: 'with time zone' } }),
  ...aliases(['timestamp', 'timestamp without time zone'], {
    canonical: 'timestamp',
    rule: { kind: 'precision', suffix: 'without time zone' },
  }),
  ...aliases(['timestamptz', 'timestamp with time zone'], {
    canonical: 'timestamp',
    rule: { kind: 'precision', suffix: 'with time zone' },
  }),
  ['interval', { canonical: 'interval', rule: { kind: 'interval' } }],
  ['uuid', { canonical: 'uuid', rule: none }],
  ['json', { canonical: 'json', rule: none }],
  ['jsonb', { canonical: 'jsonb', rule: none }],
  ['bytea', { canonical: 'bytea', rule: none }],
  ['inet', { canonical: 'inet', rule: none }],
  ['cidr', { canonical: 'cidr', rule: none }],
  ['macaddr', { canonical: 'macaddr', rule: none }],
])

/** Internal array names (`_int4`) as `pg_type` spells them, for specs copied from catalogs. */
const INTERNAL_NAMES: ReadonlyMap<string, string> = new Map([
  ['bool', 'boolean'],
  ['int2', 'smallint'],
  ['int4', 'integer'],
  ['int8', 'bigint'],
  ['float4', 'real'],
  ['float8', 'double precision'],
  ['varchar', 'character varying'],
  ['timestamptz', 'timestamptz'],
  ['timetz', 'timetz'],
])

const INTERVAL_FIELDS = new Set([
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'year to month',
  'day to hour',
  'day to minute',
  'day to second',
  'hour to minute',
  'hour to second',
  'minute to second',
])

/** The type names a schema may use, for error messages. */
export const SUPPORTED_TYPE_NAMES: readonly string[] = [...BASE_TYPES.keys()].filter((name) => !name.includes(' ')).sort()

/**
 * Parses a type as a user or `format_type` would write it.
 *
 * @throws TypeSpecError for anything that is not a supported PostgreSQL type.
 */
export function parseType(spec: string): ParsedType {
  let text = spec.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1')
  let isArray = false
  // `integer[]`, `integer[3][]`, `integer array`, `integer array[3]` all mean a one-type array.
  const arraySuffix = /(?:\[\d*\])+$|\sarray(?:\[\d*\])?$/
  if (arraySuffix.test(text)) {
    isArray = true
    text = text.replace(arraySuffix, '').trim()
  } else if (text.startsWith('_') && !text.includes(' ')) {
    isArray = true
    text = INTERNAL_NAMES.get(text.slice(1)) ?? text.slice(1)
  }

  const parsed = parseScalar(text, spec)
  if (isArray && parsed.serial) throw new TypeSpecError(`"${spec}": serial types cannot be arrays`)
  return { type: isArray ? `${parsed.type}[]` : parsed.type, serial: parsed.serial }
}

const IDENTIFIER = String.raw`(?:[\p{L}_][\p{L}\p{N}_$]*|"(?:[^"\0]|"")+")`
const MODIFIER = String.raw`(?:-?\d+|[\p{L}_][\p{L}\p{N}_]*)`
/** `name`, `schema.name`, `name(modifiers)`, with `[]` suffixes: how a type the target defines is spelt. */
const CATALOG_TYPE = new RegExp(
  String.raw`^(?:${IDENTIFIER}\.)?(?:bit varying|${IDENTIFIER})(?:\(${MODIFIER}(?:,${MODIFIER})*\))?(?:\[\d*\])*$`,
  'u',
)

/**
 * A spelling for a type outside the built-in set (`mood`, `audit."Level"`,
 * `geometry(Point,4326)`, `citext[]`), trimmed, or `null` when it is not the
 * shape of a type name at all. Whether the type exists is the target's to say.
 */
export function catalogTypeSpelling(spec: string): string | null {
  const text = spec.trim().replace(/\s+/g, ' ').replace(/\s*([(),[\]])\s*/g, '$1')
  return CATALOG_TYPE.test(text) ? text : null
}

/** Canonical spelling of a type; types outside the supported set pass through as PostgreSQL printed them. */
export function canonicalType(formatTypeOutput: string): string {
  try {
    return parseType(formatTypeOutput).type
  } catch (error) {
    if (error instanceof TypeSpecError) return formatTypeOutput
    throw error
  }
}

/** `numeric(10,2)` → `numeric`, `integer[]` → `integer[]`: the type without its modifiers. */
export function baseOfType(canonical: string): string {
  return canonical.replace(/\([^)]*\)/g, '')
}

const NUMERIC_BASES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'])

export function isNumericType(canonical: string): boolean {
  return NUMERIC_BASES.has(baseOfType(canonical))
}

function parseScalar(text: string, spec: string): ParsedType {
  // Split `name(modifiers) trailing`: the trailing words are a time zone (`time(3) with time zone`).
  let name = text
  let modifiersText: string | undefined
  let trailing: string | undefined
  const open = text.indexOf('(')
  if (open >= 0) {
    const close = text.indexOf(')', open)
    if (close < 0) throw unknownType(spec)
    name = text.slice(0, open).trim()
    modifiersText = text.slice(open + 1, close)
    trailing = text.slice(close + 1).trim() || undefined
  }

  let base = BASE_TYPES.get(name)
  // `interval day to second(3)`: the fields sit between the name and the precision.
  if (!base && name.startsWith('interval ')) {
    base = BASE_TYPES.get('interval')
    trailing = name.slice('interval '.length)
  }
  if (!base) throw unknownType(spec)

  const modifiers = modifiersText === undefined ? [] : modifiersText.split(',').map((m) => parseModifier(m, spec))
  return { type: applyRule(base, modifiers, trailing, spec), serial: base.serial === true }
}

function applyRule(base: BaseType, modifiers: number[], trailing: string | undefined, spec: string): string {
  const rule = base.rule
  if (rule.kind !== 'precision' && rule.kind !== 'interval' && trailing !== undefined) throw unknownType(spec)
  switch (rule.kind) {
    case 'none':
      if (modifiers.length > 0) throw new TypeSpecError(`"${spec}": ${base.canonical} takes no modifier`)
      return base.canonical
    case 'length': {
      if (modifiers.length > 1) throw new TypeSpecError(`"${spec}": ${base.canonical} takes one length`)
      const length = modifiers[0] ?? rule.implicit
      if (length === undefined) return base.canonical
      checkRange(spec, 'length', length, 1, rule.max)
      return `${base.canonical === 'bpchar' ? 'character' : base.canonical}(${length})`
    }
    case 'numeric': {
      const [precision, scale = 0] = modifiers
      if (modifiers.length > 2) throw new TypeSpecError(`"${spec}": numeric takes (precision, scale)`)
      if (precision === undefined) return 'numeric'
      checkRange(spec, 'precision', precision, 1, 1000)
      checkRange(spec, 'scale', scale, -1000, 1000)
      return `numeric(${precision},${scale})`
    }
    case 'float': {
      const [bits] = modifiers
      if (modifiers.length > 1) throw new TypeSpecError(`"${spec}": float takes one precision`)
      if (bits === undefined) return 'double precision'
      checkRange(spec, 'precision', bits, 1, 53)
      return bits <= 24 ? 'real' : 'double precision'
    }
    case 'precision': {
      if (trailing !== undefined && trailing !== 'with time zone' && trailing !== 'without time zone') {
        throw unknownType(spec)
      }
      const suffix = trailing ?? rule.suffix
      const [precision] = modifiers
      if (modifiers.length > 1) throw new TypeSpecError(`"${spec}": ${base.canonical} takes one precision`)
      if (precision !== undefined) checkRange(spec, 'precision', precision, 0, 6)
      const head = precision === undefined ? base.canonical : `${base.canonical}(${precision})`
      return suffix ? `${head} ${suffix}` : head
    }
    case 'interval': {
      // `interval(3)`, `interval day to second`, `interval day to second(3)`.
      const fields = trailing
      const [precision] = modifiers
      if (modifiers.length > 1) throw new TypeSpecError(`"${spec}": interval takes one precision`)
      if (fields !== undefined && !INTERVAL_FIELDS.has(fields)) throw unknownType(spec)
      if (precision !== undefined) checkRange(spec, 'precision', precision, 0, 6)
      const withFields = fields === undefined ? 'interval' : `interval ${fields}`
      return precision === undefined ? withFields : `${withFields}(${precision})`
    }
  }
}

function parseModifier(text: string, spec: string): number {
  if (!/^-?\d+$/.test(text)) throw new TypeSpecError(`"${spec}": type modifier "${text}" is not a whole number`)
  return Number(text)
}

function checkRange(spec: string, what: string, value: number, min: number, max: number): void {
  if (value < min || value > max) {
    throw new TypeSpecError(`"${spec}": ${what} ${value} is outside ${min}..${max}`)
  }
}

function unknownType(spec: string): TypeSpecError {
  return new TypeSpecError(`unknown type "${spec}"; supported: ${SUPPORTED_TYPE_NAMES.join(', ')} (with modifiers and [] arrays)`)
}

function aliases(names: readonly string[], base: BaseType): [string, BaseType][] {
  return names.map((name) => [name, base])
}
