import { MigratorError } from '../errors.js'
import { HAZARD_CODES, type HazardCode, isHazardCode } from './hazards.js'

/**
 * `--allow`: which held-back changes the user lets the plan make. A bare
 * code (`drop-column`) allows every change carrying that hazard; a code with
 * a subject (`drop-column:call_log.legacy_flag`) allows that one change, as
 * the plan names it (`table`, `table.column`, `schema.table.column`).
 */
export interface AllowEntry {
  /** As the user wrote it. */
  readonly text: string
  readonly code: HazardCode
  /** `null` for a bare code: every subject. */
  readonly subject: string | null
}

/** How many planned steps an entry let through, for the plan's output. */
export interface AllowanceUse {
  readonly allow: string
  readonly code: HazardCode
  readonly subject: string | null
  readonly steps: number
  /**
   * The subject names no change carrying the code in this plan: a typo, or a
   * change already made. Reported, not an error: an allow only ever widens a
   * plan, so a stale one changes nothing and a re-run stays a re-run.
   */
  readonly unmatched: boolean
}

/**
 * Reads `--allow` values. Each may list several entries separated by commas;
 * a comma that is not followed by a hazard code belongs to the subject, so a
 * column named `a,b` can still be named.
 *
 * @throws MigratorError (stage `settings`) for an unknown code or an empty subject.
 */
export function parseAllow(values: readonly string[]): AllowEntry[] {
  const entries: AllowEntry[] = []
  const unknown: string[] = []
  for (const value of values) {
    for (const piece of splitEntries(value)) {
      const colon = piece.indexOf(':')
      const code = (colon < 0 ? piece : piece.slice(0, colon)).trim()
      const subject = colon < 0 ? null : piece.slice(colon + 1).trim()
      if (!isHazardCode(code)) {
        unknown.push(code)
        continue
      }
      if (subject === '') {
        throw new MigratorError('settings', `--allow ${piece} names no subject after the colon`, {
          hint: `write --allow ${code} for every change it covers, or --allow ${code}:<table>.<column> for one`,
        })
      }
      const text = subject === null ? code : `${code}:${subject}`
      if (!entries.some((entry) => entry.text === text)) entries.push({ text, code, subject })
    }
  }
  if (unknown.length > 0) {
    throw new MigratorError('settings', `unknown hazard code ${unknown.map((c) => `"${c}"`).join(', ')} in --allow`, {
      hint: `known codes: ${HAZARD_CODES.join(', ')}; name one change as <code>:<table>.<column>`,
    })
  }
  return entries
}

function splitEntries(value: string): string[] {
  const pieces: string[] = []
  for (const part of value.split(',')) {
    const code = part.split(':')[0]?.trim() ?? ''
    const last = pieces.length - 1
    // A comma inside a subject: the part does not start a new entry.
    if (last >= 0 && pieces[last]?.includes(':') && !isHazardCode(code)) pieces[last] += `,${part}`
    else if (part.trim() !== '') pieces.push(part.trim())
  }
  return pieces
}

/** The entries that allow hazard `code` on the change named `subject`. */
export function entriesAllowing(entries: readonly AllowEntry[], code: HazardCode, subject: string): AllowEntry[] {
  return entries.filter((entry) => entry.code === code && (entry.subject === null || entry.subject === subject))
}

/** `drop-column:call_log.legacy_flag`: the entry that allows exactly this change's hazard. */
export function narrowAllow(code: HazardCode, subject: string): string {
  return `${code}:${subject}`
}
