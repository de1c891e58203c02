import { type Kysely, type RawBuilder, sql } from 'kysely'
import { tableKey } from '../model/model.js'
import { splitTopLevel } from '../model/sql-text.js'
import { sqlStateOf } from '../target/database-errors.js'

/**
 * Asks the server what it makes of SQL expressions, without running them:
 * `EXPLAIN (VERBOSE)` parses, type-checks and constant-folds a SELECT and
 * prints each output expression back in PostgreSQL's own spelling. Two
 * spellings of one value or one expression (`'0.0'::numeric(12,2)` and
 * `0`, `price*qty` and `(price * qty)`) print the same; an expression the
 * column could not hold fails with PostgreSQL's own error. Read-only, so it
 * serves `schema:verify` on a replica too.
 */

export interface DeparseRequest {
  readonly expression: string
  /** Read the result as this type, as a default is read as its column's type. */
  readonly castTo: string | null
  /** Evaluate over this table's columns (a generation expression); `null` for a constant. */
  readonly table: { readonly schema: string; readonly name: string } | null
}

export type DeparseResult = { readonly text: string } | { readonly error: unknown }

export type Deparse = (requests: readonly DeparseRequest[]) => Promise<readonly DeparseResult[]>

/**
 * PostgreSQL's limit on a SELECT list is 1,664 entries (`MaxTupleAttributeNumber`): a larger batch
 * is split. Well under it, so the cast around each entry never counts twice.
 */
const MAX_BATCH = 1000

/**
 * One EXPLAIN per table (and one for constants), each asked once per distinct expression and
 * cast (a thousand tables declaring `default 0` need one answer), in batches of at most
 * {@link MAX_BATCH}; a batch that fails is retried item by item to say which failed.
 */
export async function deparseOnServer(db: Kysely<unknown>, requests: readonly DeparseRequest[]): Promise<DeparseResult[]> {
  const results: DeparseResult[] = new Array(requests.length)
  // Per table, each distinct expression once, with every request that asks for it.
  const groups = new Map<string, Map<string, number[]>>()
  requests.forEach((request, index) => {
    const key = request.table ? tableKey(request.table) : ''
    let group = groups.get(key)
    if (!group) groups.set(key, (group = new Map()))
    const asked = `${request.castTo ?? ''}\0${request.expression}`
    const same = group.get(asked)
    if (same) same.push(index)
    else group.set(asked, [index])
  })
  for (const group of groups.values()) {
    const distinct = [...group.values()]
    for (let start = 0; start < distinct.length; start += MAX_BATCH) {
      const chunk = distinct.slice(start, start + MAX_BATCH)
      for (const [i, result] of (await deparseBatch(db, chunk.map((indexes) => requests[indexes[0] as number] as DeparseRequest))).entries()) {
        for (const index of chunk[i] ?? []) results[index] = result
      }
    }
  }
  return results
}

/** `batch` all on one table, or all constants; each failing request is named by its own retry. */
async function deparseBatch(db: Kysely<unknown>, batch: readonly DeparseRequest[]): Promise<DeparseResult[]> {
  const printed = await explainOutput(db, batch).catch((error: unknown) => {
    if (!refusesExpression(error)) throw error
    return null
  })
  if (printed !== null && printed.length === batch.length) return printed.map((text) => ({ text }))
  const results: DeparseResult[] = []
  for (const request of batch) {
    try {
      const [text] = (await explainOutput(db, [request])) ?? []
      results.push(text === undefined ? { error: new Error('EXPLAIN printed no output') } : { text })
    } catch (error) {
      if (!refusesExpression(error)) throw error
      results.push({ error })
    }
  }
  return results
}

/** The `Output:` expressions EXPLAIN prints for `requests` (all on one table, or all constants). */
async function explainOutput(db: Kysely<unknown>, requests: readonly DeparseRequest[]): Promise<string[] | null> {
  const items = requests.map((r) => {
    const expression: RawBuilder<unknown> = sql`(${sql.raw(r.expression)})`
    return r.castTo === null ? expression : sql`${expression}::${sql.raw(r.castTo)}`
  })
  const table = requests[0]?.table
  const from = table ? sql` FROM ONLY ${sql.id(table.schema, table.name)}` : sql``
  const { rows } = await sql<Record<string, string>>`EXPLAIN (VERBOSE, COSTS OFF) SELECT ${sql.join(items)}${from}`.execute(db)
  for (const row of rows) {
    const line = Object.values(row)[0]?.trim() ?? ''
    if (line.startsWith('Output: ')) return splitTopLevel(line.slice('Output: '.length))
  }
  return null
}

/**
 * PostgreSQL refused the expression itself (bad value, unknown name or
 * schema, wrong type: classes 22, 42, 0A, 3F). Anything else, a lost connection or a missing
 * privilege, is not an answer about the expression and is raised.
 */
function refusesExpression(error: unknown): boolean {
  const state = sqlStateOf(error)
  if (state === null || state === '42501') return false
  return ['22', '42', '0A', '3F'].includes(state.slice(0, 2))
}
