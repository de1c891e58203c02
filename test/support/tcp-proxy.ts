import net from 'node:net'

/**
 * A TCP proxy in front of the test server, to break the network the way
 * production networks break: cut a connection the first time its client sends
 * COMMIT (before the server sees it), or freeze the open connections so that
 * nothing more passes either way, with no error and no close (a silent
 * network). Connections opened after a freeze pass normally.
 */
export async function startTcpProxy(target: URL, { dropOnCommit = false } = {}) {
  let drops = 0
  let frozen = new Set<net.Socket>()
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname)
    sockets.add(client).add(upstream)
    client.on('data', (chunk) => {
      if (frozen.has(client)) return
      if (dropOnCommit && drops === 0 && chunk.includes('COMMIT')) {
        drops++
        client.destroy()
        upstream.destroy()
        return
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!frozen.has(client)) client.write(chunk)
    })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    /** `target` with this proxy's host and port. */
    url: (() => {
      const url = new URL(target.href)
      url.hostname = '127.0.0.1'
      url.port = String(port)
      return url.href
    })(),
    dropped: () => drops,
    /** Nothing more passes on the connections open now. */
    freeze: () => {
      frozen = new Set(sockets)
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}
