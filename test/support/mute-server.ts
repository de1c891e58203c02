import net from 'node:net'

/**
 * A server that speaks PostgreSQL's login and then nothing: it accepts any
 * user without a password, sends its key and "ready", and swallows every
 * query after that. What a pooler with no free server connection looks like
 * from the client, or a server that hung after the login.
 */
export async function startMuteServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    let loggedIn = false
    socket.on('data', (data) => {
      if (loggedIn) return
      // SSLRequest: "no SSL here", then the startup message follows.
      if (data.length === 8 && data.readInt32BE(4) === 80877103) return void socket.write('N')
      loggedIn = true
      const authenticationOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0])
      const backendKey = Buffer.alloc(13)
      backendKey.write('K', 0)
      backendKey.writeInt32BE(12, 1)
      backendKey.writeInt32BE(4242, 5)
      backendKey.writeInt32BE(1, 9)
      const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5, 0x49])
      socket.write(Buffer.concat([authenticationOk, backendKey, readyForQuery]))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}
