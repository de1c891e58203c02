import { splitCast, splitTopLevel, stringLiteralValue, stripOuterParentheses } from './sql-text.js'

/**
 * PostgreSQL arrays in the two ways a default spells them: the array literal
 * text `'{a,"b c",NULL}'` and the constructor `ARRAY['a', 'b c', NULL]`.
 * Elements are kept as the text PostgreSQL would read for each, so the
 * caller compares them by the element type's rules.
 */

/** An element's text, `null` for SQL NULL, or a nested array. */
export type ArrayItem = string | null | readonly ArrayItem[]

/**
 * Reads array input syntax (`{1,2}`, `{"a b",NULL,{x}}`), as `array_in`
 * does; `null` for anything else (including dimension decorations like `[1:2]={...}`).
 */
export function parseArrayLiteral(text: string): ArrayItem[] | null {
  let i = 0
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++
  }

  const parseArray = (): ArrayItem[] | null => {
    if (text[i] !== '{') return null
    i++
    const items: ArrayItem[] = []
    skipSpace()
    if (text[i] === '}') {
      i++
      return items
    }
    for (;;) {
      skipSpace()
      if (text[i] === '{') {
        const nested = parseArray()
        if (nested === null) return null
        items.push(nested)
      } else {
        const element = parseElement()
        if (element === undefined) return null
        items.push(element)
      }
      skipSpace()
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '}') {
        i++
        return items
      }
      return null
    }
  }

  /** `undefined` when malformed. */
  const parseElement = (): string | null | undefined => {
    if (text[i] === '"') {
      i++
      let value = ''
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++
        if (i >= text.length) return undefined
        value += text[i]
        i++
      }
      if (text[i] !== '"') return undefined
      i++
      return value
    }
    let value = ''
    let escaped = false
    while (i < text.length && !',{}"'.includes(text[i] as string)) {
      if (text[i] === '\\') {
        i++
        if (i >= text.length) return undefined
        escaped = true
      }
      value += text[i]
      i++
    }
    const trimmed = escaped ? value : value.trim()
    if (trimmed.length === 0) return undefined
    return !escaped && trimmed.toLowerCase() === 'null' ? null : trimmed
  }

  skipSpace()
  const items = parseArray()
  skipSpace()
  return items !== null && i === text.length ? items : null
}

/**
 * Array input text that PostgreSQL reads back as `items`, quoting an element
 * only where `array_out` would: so the text is the one PostgreSQL prints.
 */
export function renderArrayLiteral(items: readonly ArrayItem[]): string {
  const element = (item: ArrayItem): string => {
    if (item === null) return 'NULL'
    if (typeof item !== 'string') return renderArrayLiteral(item)
    const plain = item !== '' && item.toLowerCase() !== 'null' && !/[{},"\\\s]/.test(item)
    return plain ? item : `"${item.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
  }
  return `{${items.map(element).join(',')}}`
}

/**
 * Reads an `ARRAY[...]` constructor whose elements are constants
 * (`ARRAY['x'::text, NULL, ARRAY[1, 2]]`, as `pg_get_expr` prints them); `null`
 * for anything else, such as an element that calls a function.
 */
export function parseArrayConstructor(text: string): ArrayItem[] | null {
  const match = /^array\s*\[(.*)\]$/is.exec(stripOuterParentheses(text))
  if (!match) return null
  const body = (match[1] as string).trim()
  if (body === '') return []
  const items: ArrayItem[] = []
  for (const part of splitTopLevel(body)) {
    const item = constantElement(part)
    if (item === undefined) return null
    items.push(item)
  }
  return items
}

/** `undefined` when `text` is not a constant. */
function constantElement(text: string): ArrayItem | undefined {
  let current = stripOuterParentheses(text)
  for (let cast = splitCast(current); cast; cast = splitCast(current)) current = stripOuterParentheses(cast[0])
  if (/^null$/i.test(current)) return null
  const quoted = stringLiteralValue(current)
  if (quoted !== null) return quoted
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(current)) return current
  if (/^(true|false)$/i.test(current)) return current.toLowerCase()
  return parseArrayConstructor(current) ?? undefined
}
