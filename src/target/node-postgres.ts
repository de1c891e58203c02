import type pgModule from 'pg'

/**
 * node-postgres, loaded without a detour. When it loads, pg asks whether it
 * runs in a Cloudflare Worker: it reads `navigator.userAgent`, and where there
 * is no `navigator` it builds a `Response` to look for Cloudflare's extension.
 * Node 21 and later define `navigator`; on Node 20 the question alone loads
 * Node's fetch implementation (undici), about 15 ms of every command. For the
 * load, Node 20 is lent the `navigator` that later versions define, and it is
 * taken back at once: nothing else ever sees it.
 */
const lent = !('navigator' in globalThis)
if (lent) {
  const userAgent = `Node.js/${process.versions.node.split('.')[0]}`
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent }, configurable: true })
}
let loaded: typeof pgModule
try {
  loaded = (await import('pg')).default
} finally {
  if (lent) delete (globalThis as { navigator?: unknown }).navigator
}

export default loaded
