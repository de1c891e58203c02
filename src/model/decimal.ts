/**
 * Decimal numbers by value: `0.0`, `0`, `'0.00'` and `0e5` are one number,
 * and a value bound for `numeric(12,2)` is the value rounded to two places,
 * as PostgreSQL rounds it when it stores a row (half away from zero).
 * Exact: BigInt digits, never a binary float.
 */

/** A finite decimal: `coefficient × 10^exponent`, with no trailing zeros in the coefficient (zero is `0 × 10^0`). */
export interface Decimal {
  readonly coefficient: bigint
  readonly exponent: number
}

const NUMBER = /^([+-])?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i

/** Whether `text` is a number as PostgreSQL's numeric input reads it (`1`, `-0.5`, `.5`, `1e3`), surrounding spaces allowed. */
export function isDecimalText(text: string): boolean {
  const match = NUMBER.exec(text.trim())
  return match !== null && ((match[2] ?? '') + (match[3] ?? '')).length > 0
}

export function parseDecimal(text: string): Decimal | null {
  const match = NUMBER.exec(text.trim())
  if (!match) return null
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match
  if (whole.length + fraction.length === 0) return null
  const digits = BigInt(whole + fraction || '0')
  return normalized(sign === '-' ? -digits : digits, Number(exponent) - fraction.length)
}

/** `value` rounded to `scale` digits after the point (negative: before it), half away from zero. */
export function roundDecimal(value: Decimal, scale: number): Decimal {
  const drop = -value.exponent - scale
  if (drop <= 0) return value
  const divisor = 10n ** BigInt(drop)
  const magnitude = value.coefficient < 0n ? -value.coefficient : value.coefficient
  let quotient = magnitude / divisor
  if ((magnitude % divisor) * 2n >= divisor) quotient += 1n
  return normalized(value.coefficient < 0n ? -quotient : quotient, -scale)
}

/** Digits before the decimal point (`123.4` → 3; `0.05` → 0). */
export function integerDigits(value: Decimal): number {
  if (value.coefficient === 0n) return 0
  const digits = (value.coefficient < 0n ? -value.coefficient : value.coefficient).toString().length
  return Math.max(0, digits + value.exponent)
}

/** One spelling per value, for comparison: `15e-1` for 1.5, `0` for zero. */
export function decimalKey(value: Decimal): string {
  return value.exponent === 0 ? value.coefficient.toString() : `${value.coefficient}e${value.exponent}`
}

/** Whether `value` is a whole number that fits `min..max`. */
export function isWholeInRange(value: Decimal, min: bigint, max: bigint): boolean {
  if (value.exponent < 0) return false
  const whole = value.coefficient * 10n ** BigInt(value.exponent)
  return whole >= min && whole <= max
}

function normalized(coefficient: bigint, exponent: number): Decimal {
  if (coefficient === 0n) return { coefficient: 0n, exponent: 0 }
  let c = coefficient
  let e = exponent
  while (c % 10n === 0n) {
    c /= 10n
    e++
  }
  return { coefficient: c, exponent: e }
}
