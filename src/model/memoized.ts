/**
 * `compute`, remembering each answer by its text: for pure functions that a
 * schema calls with few distinct texts over many columns (types, defaults),
 * where building each answer again was a good part of modelling a large schema.
 * Answers are shared, so they must be read-only (the model's objects are).
 */
export function memoized<T>(compute: (text: string) => T): (text: string) => T {
  const known = new Map<string, T>()
  return (text) => {
    if (known.has(text)) return known.get(text) as T
    const value = compute(text)
    known.set(text, value)
    return value
  }
}
