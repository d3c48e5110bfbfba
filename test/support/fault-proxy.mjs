// A TCP proxy in front of a real Postgres, run as a child process of the test (startFaultProxy() in
// fault-proxy.ts) so it keeps working while pino's transport.end() blocks the test's thread.
// The test switches its behaviour over IPC:
//
//   forward   pass bytes both ways (the default)
//   stall     accept connections and never answer; open connections stop passing bytes either way
//             (a stalled network path: the client sees no error, only silence); what was sent
//             meanwhile is held and delivered on `forward`, as TCP would once the path recovers
//   reset     RST every open connection; new ones are reset as soon as they connect
//   fail      answer every new connection, and the next message on an open one, with a FATAL
//             ErrorResponse carrying the given SQLSTATE (57P03 "starting up", 53300 "too many clients", ...)
//
// and, independent of the mode, intercepts COMMITs: the client's connection is reset just as it sends
// COMMIT, and the COMMIT reaches the server `delayMs` later, or never (`hold`: the server session stays
// open inside its transaction, holding its locks, until `release`).
import net from 'node:net'

const [targetHost, targetPort] = [process.argv[2], Number(process.argv[3])]

let mode = 'forward'
let failure = { code: '57P03', message: 'the database system is starting up' }
/** Pending COMMIT interceptions: { delayMs, hold, resetClient, remaining }. */
let commitPlan
const connections = new Set()
const held = new Set()
const stats = { connections: 0, begins: 0, commits: 0, interceptedCommits: 0 }

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

function errorResponse(code, message) {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`)
  const header = Buffer.alloc(5)
  header.write('E', 0)
  header.writeInt32BE(fields.length + 4, 1)
  return Buffer.concat([header, fields])
}

/** The SQL text a client message runs, when it is a simple query, a Parse, or a Bind of a known statement. */
function statementOf(conn, type, body) {
  if (type === 'Q') return body.toString('utf8', 0, body.indexOf(0))
  if (type === 'P') {
    const nameEnd = body.indexOf(0)
    const name = body.toString('utf8', 0, nameEnd)
    const text = body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1))
    conn.statements.set(name, text)
    // An unnamed statement runs at its Bind; a named one may run many times, counted at each Bind.
    return undefined
  }
  if (type === 'B') {
    const portalEnd = body.indexOf(0)
    const name = body.toString('utf8', portalEnd + 1, body.indexOf(0, portalEnd + 1))
    return conn.statements.get(name)
  }
  return undefined
}

function closeConnection(conn, how) {
  connections.delete(conn)
  if (how === 'reset') conn.client.resetAndDestroy()
  else conn.client.destroy()
  if (!held.has(conn)) conn.server?.destroy()
}

/** Splits client bytes into protocol messages; a COMMIT may be cut off there. */
function fromClient(conn, chunk) {
  if (!conn.server) {
    // Accepted while failing or stalling: it never had a server side; the client will connect again.
    closeConnection(conn, 'destroy')
    return
  }
  if (conn.intercepted) {
    conn.heldBytes.push(chunk)
    return
  }
  conn.buffer = Buffer.concat([conn.buffer, chunk])
  let forwardUpTo = 0
  for (;;) {
    const rest = conn.buffer.subarray(forwardUpTo)
    if (conn.startup) {
      if (rest.length < 8) break
      const length = rest.readInt32BE(0)
      if (rest.length < length) break
      const code = rest.readInt32BE(4)
      if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) conn.startup = false
      forwardUpTo += length
      if (mode === 'fail' && !conn.startup) {
        conn.client.end(errorResponse(failure.code, failure.message))
        connections.delete(conn)
        conn.server?.destroy()
        return
      }
      continue
    }
    if (rest.length < 5) break
    const length = rest.readInt32BE(1)
    if (rest.length < length + 1) break
    const type = String.fromCharCode(rest[0])
    const text = statementOf(conn, type, rest.subarray(5, length + 1))
    if (text !== undefined && /^\s*begin/i.test(text)) stats.begins++
    if (text !== undefined && /^\s*commit/i.test(text)) {
      stats.commits++
      if (commitPlan && commitPlan.remaining > 0) {
        commitPlan.remaining--
        stats.interceptedCommits++
        conn.server.write(conn.buffer.subarray(0, forwardUpTo))
        interceptCommit(conn, conn.buffer.subarray(forwardUpTo), commitPlan)
        return
      }
    }
    forwardUpTo += length + 1
  }
  if (forwardUpTo > 0) {
    conn.server.write(conn.buffer.subarray(0, forwardUpTo))
    conn.buffer = conn.buffer.subarray(forwardUpTo)
  }
}

function interceptCommit(conn, commitBytes, plan) {
  conn.intercepted = true
  conn.heldBytes = [commitBytes]
  held.add(conn)
  if (plan.resetClient) closeConnection(conn, 'reset')
  if (!plan.hold) {
    setTimeout(() => releaseSession(conn, true), plan.delayMs)
  }
}

/** Sends a held session its COMMIT (or nothing, so the server rolls it back), then hangs up. */
function releaseSession(conn, commit) {
  if (!held.delete(conn)) return
  if (commit) conn.server.write(Buffer.concat(conn.heldBytes))
  // Give the server a moment to run the COMMIT before it reads the end of the stream.
  setTimeout(() => conn.server.destroy(), commit ? 300 : 0)
}

const proxy = net.createServer((client) => {
  stats.connections++
  const conn = { client, server: undefined, buffer: Buffer.alloc(0), startup: true, statements: new Map(), intercepted: false, heldBytes: [], pausedFromClient: [], pausedFromServer: [] }
  client.on('error', () => {})
  if (mode === 'reset') {
    client.resetAndDestroy()
    return
  }
  connections.add(conn)
  if (mode === 'stall') {
    conn.stalled = true
    client.on('close', () => connections.delete(conn))
    return
  }
  if (mode !== 'fail') {
    conn.server = net.connect({ host: targetHost, port: targetPort, noDelay: true })
    conn.server.on('error', () => closeConnection(conn, 'destroy'))
    conn.server.on('data', (data) => {
      if (conn.stalled) conn.pausedFromServer.push(data)
      else if (!conn.client.destroyed) conn.client.write(data)
    })
    conn.server.on('close', () => {
      if (!held.has(conn) && connections.has(conn)) closeConnection(conn, 'destroy')
    })
  }
  client.setNoDelay(true)
  client.on('data', (chunk) => {
    if (conn.stalled) {
      conn.pausedFromClient.push(chunk)
      return
    }
    if (mode === 'fail' && !conn.startup) {
      client.end(errorResponse(failure.code, failure.message))
      connections.delete(conn)
      conn.server?.destroy()
      return
    }
    fromClient(conn, chunk)
  })
  client.on('close', () => {
    if (!held.has(conn)) closeConnection(conn, 'destroy')
  })
})

const commands = {
  forward() {
    mode = 'forward'
    for (const conn of [...connections]) {
      if (!conn.stalled) continue
      conn.stalled = false
      // Accepted while stalling: it has no server side; the client gives up on it by itself.
      if (!conn.server) continue
      for (const data of conn.pausedFromServer.splice(0)) conn.client.write(data)
      for (const chunk of conn.pausedFromClient.splice(0)) fromClient(conn, chunk)
    }
  },
  stall() {
    mode = 'stall'
    for (const conn of connections) conn.stalled = true
  },
  reset() {
    mode = 'reset'
    for (const conn of [...connections]) closeConnection(conn, 'reset')
  },
  /** Resets what is open now but keeps accepting (and forwarding) new connections. */
  resetOpen() {
    for (const conn of [...connections]) closeConnection(conn, 'reset')
  },
  fail({ code, message }) {
    mode = 'fail'
    failure = { code, message: message ?? `injected ${code}` }
  },
  interceptCommits({ count = 1, delayMs = 0, hold = false, resetClient = true }) {
    commitPlan = { remaining: count, delayMs, hold, resetClient }
  },
  release({ commit = false } = {}) {
    for (const conn of [...held]) releaseSession(conn, commit)
  },
  stats: () => ({ ...stats, open: connections.size, held: held.size }),
  close() {
    for (const conn of [...held]) releaseSession(conn, false)
    for (const conn of [...connections]) closeConnection(conn, 'destroy')
    proxy.close()
    setTimeout(() => process.exit(0), 50)
  },
}

process.on('message', ({ id, command, args }) => {
  try {
    const result = commands[command](args ?? {})
    process.send({ id, ok: true, result })
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) })
  }
})
// The test runner going away takes the proxy with it.
process.on('disconnect', () => process.exit(0))

proxy.listen(0, '127.0.0.1', () => process.send({ ready: true, port: proxy.address().port }))
