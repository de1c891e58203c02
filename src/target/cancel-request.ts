import net from 'node:net'
import type pg from 'pg'

/**
 * Cancelling a running statement the way psql's Ctrl-C does: a CancelRequest
 * message carrying the connection's own cancel key, sent over a new socket.
 * Unlike `pg_cancel_backend()` it needs no login, so it works when the role
 * has no connection slot left (`CONNECTION LIMIT 1`, `max_connections`
 * reached), and the key names exactly the tool's own backend.
 */

/** What a node-postgres client knows about its connection beyond its public API. */
interface ClientInternals {
  readonly processID?: number | null
  readonly secretKey?: number | null
  readonly host?: string
  readonly port?: number
  readonly connection?: { readonly stream?: { destroy(): void } }
}

const CANCEL_REQUEST_CODE = 80_877_102

export async function sendCancelRequest(client: pg.ClientBase, timeoutMs: number): Promise<void> {
  const { processID, secretKey, host, port } = client as unknown as ClientInternals
  if (typeof processID !== 'number' || typeof secretKey !== 'number' || !host || !port) return
  const message = Buffer.alloc(16)
  message.writeInt32BE(16, 0)
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4)
  message.writeInt32BE(processID, 8)
  message.writeInt32BE(secretKey, 12)
  await new Promise<void>((resolve, reject) => {
    const socket = host.startsWith('/') ? net.connect({ path: `${host}/.s.PGSQL.${port}` }) : net.connect({ host, port })
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('the cancel request timed out')))
    socket.once('connect', () => socket.end(message))
    socket.once('error', reject)
    socket.once('close', () => resolve())
  })
}

/** Drops the client's socket at once; its pending query fails, and the server rolls back when it notices. */
export function dropConnection(client: pg.ClientBase): void {
  ;(client as unknown as ClientInternals).connection?.stream?.destroy()
}
