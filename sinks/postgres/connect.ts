import net from 'node:net'
import postgres from 'postgres'
import type { PostgresOptions } from './postgres-options.js'

export type Sql = postgres.Sql<Record<string, never>>

interface SocketTarget {
  host: string[]
  port: number[]
  path?: string | false
}

/**
 * postgres.js leaves Nagle's algorithm on; a large batch statement then waits on
 * delayed ACKs (measured ~5x slower per batch). We hand it our own socket with
 * TCP_NODELAY set. The socket is returned before it connects (writes queue
 * until then) so a refused connection surfaces through postgres.js's own
 * error/close handling: a factory that rejects leaves its pool stuck.
 */
function socketWithNoDelay(target: SocketTarget): net.Socket {
  const socket = target.path
    ? net.connect({ path: target.path })
    : net.connect({ host: target.host[0] ?? 'localhost', port: target.port[0] ?? 5432, noDelay: true })
  socket.setNoDelay(true)
  return socket
}

export function connect(options: PostgresOptions): Sql {
  // `socket` is a documented postgres.js option missing from its type definitions.
  const socketOption = { socket: socketWithNoDelay } as Record<string, unknown>
  return postgres(options.url, {
    ...socketOption,
    max: options.connections,
    connect_timeout: Math.ceil(options.connectTimeoutMs / 1000),
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    // Our SQL only sends text and jsonb; no type-fetching round trip needed.
    fetch_types: false,
    // Per connection rather than `set local` in each batch's transaction: one round trip less per batch.
    connection: { application_name: 'pino-sluice', ...(options.synchronousCommit === 'off' ? { synchronous_commit: 'off' } : {}) },
  })
}
