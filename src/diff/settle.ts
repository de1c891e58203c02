import type { Deparse, DeparseRequest } from '../introspect/server-deparse.js'
import { SEQUENCE_DEFAULT } from '../model/model.js'
import type { Change } from './diff.js'

/**
 * The last word on a default or generation expression the model could not
 * match by spelling: the server's. Both sides are printed back by
 * PostgreSQL as it parses them (`'2020-01-01'` and `'2020-01-01 00:00:00'` on
 * a timestamp, `price*qty` and `(price * qty)`); a change whose two sides
 * print the same is no change. Asked only for the differences that remain,
 * so a schema that matches costs no round trip.
 */
export async function settleByServer(changes: readonly Change[], deparse: Deparse): Promise<Change[]> {
  const pairs = changes.flatMap((change, index) => {
    const pair = comparable(change)
    return pair ? [{ index, pair }] : []
  })
  if (pairs.length === 0) return [...changes]
  const printed = await deparse(pairs.flatMap(({ pair }) => pair))
  const settled = new Set(
    pairs
      .filter((_, i) => {
        const [live, declared] = [printed[2 * i], printed[2 * i + 1]]
        return live && declared && 'text' in live && 'text' in declared && live.text === declared.text
      })
      .map(({ index }) => index),
  )
  return changes.filter((_, index) => !settled.has(index))
}

/** The live and declared expressions a change compares, as the server should read them; `null` if it is not such a change. */
function comparable(change: Change): [DeparseRequest, DeparseRequest] | null {
  switch (change.kind) {
    case 'alter-column-default': {
      const { from, to } = change
      if (!from || !to || to.canonical === SEQUENCE_DEFAULT) return null
      return [
        { expression: from.sql, castTo: change.type, table: null },
        { expression: to.sql, castTo: change.type, table: null },
      ]
    }
    case 'alter-column-generated': {
      const { from, to } = change
      if (!from || !to || from.kind !== to.kind) return null
      return [
        { expression: from.sql, castTo: null, table: change.table },
        { expression: to.sql, castTo: null, table: change.table },
      ]
    }
    default:
      return null
  }
}
