/**
 * RESULTS.md holds sections written by different benchmark scripts; each
 * script rewrites only its own, between markers, and keeps the others.
 */

const start = (name: string) => `<!-- section ${name}: written by its own script; keep the markers -->`
const end = (name: string) => `<!-- end of section ${name} -->`

/** The section `name` with its markers, or `''` when the text has none. */
export function sectionOf(text: string, name: string): string {
  const from = text.indexOf(start(name))
  const to = text.indexOf(end(name))
  return from === -1 || to < from ? '' : text.slice(from, to + end(name).length)
}

/** `text` with section `name` set to `body`: in place if it is there, appended otherwise. */
export function withSection(text: string, name: string, body: string): string {
  const section = `${start(name)}\n${body.trim()}\n${end(name)}`
  const existing = sectionOf(text, name)
  return existing ? text.replace(existing, section) : `${text.trimEnd()}\n\n${section}\n`
}
