import type { PGlite } from '@electric-sql/pglite'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'

/**
 * PGlite behind the pool interface Kysely's `PostgresDialect` drives, so the
 * embedded database runs through the same driver, transaction handling and
 * compiler as a real server.
 *
 * PGlite is one connection. The pool hands it to one borrower at a time and
 * queues the rest, which is what a pool of size one does. (The published
 * PGlite dialect for Kysely does not support PGlite 0.5.)
 */
export class PGlitePool implements PostgresPool {
  readonly #pglite: PGlite
  #queue: Promise<void> = Promise.resolve()

  constructor(pglite: PGlite) {
    this.#pglite = pglite
  }

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void
    const previous = this.#queue
    this.#queue = new Promise<void>((resolve) => {
      release = resolve
    })
    await previous
    const pglite = this.#pglite
    let released = false
    return {
      async query<R>(sqlOrCursor: unknown, parameters?: readonly unknown[]): Promise<PostgresQueryResult<R>> {
        if (typeof sqlOrCursor !== 'string') throw new Error('PGlite does not support cursors (streamQuery)')
        // `query` uses the extended protocol: one statement per call, as with node-postgres and parameters.
        const result = await pglite.query<R>(sqlOrCursor, parameters ? [...parameters] : [])
        return { command: 'SELECT', rowCount: result.affectedRows ?? 0, rows: result.rows }
      },
      release() {
        if (released) return
        released = true
        release()
      },
    } as PostgresPoolClient
  }

  async end(): Promise<void> {
    await this.#pglite.close()
  }
}
