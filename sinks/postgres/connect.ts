import net from 'node:net'
import postgres from 'postgres'
import { UNPARSEABLE_URL_FIX } from './connection-string.js'
import type { PostgresOptions } from './postgres-options.js'

export type Sql = postgres.Sql<Record<string, never>>

/** A pool and the sockets under it, so a hung attempt can be cut off (postgres.js has no per-query timeout). */
export interface Connections {
  readonly sql: Sql
  /**
   * Destroys every socket now: queries waiting on a silent server fail at once
   * (CONNECTION_CLOSED), and the pool reconnects for the next query. On a
   * stalled network path this is the only way to get them back.
   */
  dropAll(): void
}

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
 *
 * postgres.js upgrades the socket to TLS itself and takes the SNI server name
 * from `socket.host`, which it sets only on sockets it makes: without it our
 * TLS handshakes carried no SNI, and providers that route by SNI refused them.
 * An IP address is no server name (RFC 6066); postgres.js leaves it out.
 */
function socketWithNoDelay(target: SocketTarget, sockets: Set<net.Socket>): net.Socket {
  const host = target.host[0] ?? 'localhost'
  const socket = target.path ? net.connect({ path: target.path }) : net.connect({ host, port: target.port[0] ?? 5432, noDelay: true })
  if (!target.path) Object.assign(socket, { host })
  socket.setNoDelay(true)
  sockets.add(socket)
  socket.once('close', () => sockets.delete(socket))
  return socket
}

/**
 * postgres.js throws WHATWG's TypeError for a URL it cannot parse, with the
 * whole URL (password included) in its `input` property, where a logged
 * error would print it. The options check refuses such URLs first; this
 * keeps the promise if a URL ever slips past it.
 */
function openPool(url: string, settings: Parameters<typeof postgres>[1]): Sql {
  try {
    return postgres(url, settings) as unknown as Sql
  } catch {
    throw new Error(`options.postgres.url cannot be parsed as a URL (the value is not shown, it may hold a password). ${UNPARSEABLE_URL_FIX}`)
  }
}

/** The longest any statement may run on our connections. */
export function statementLimitMs(options: Pick<PostgresOptions, 'retry' | 'connectTimeoutMs'>): number {
  return Math.max(options.retry.budgetMs, options.connectTimeoutMs)
}

export function connect(options: PostgresOptions): Sql {
  return connectDroppable(options).sql
}

/** `connect`, plus a way to destroy every socket of the pool at once. */
export function connectDroppable(options: PostgresOptions): Connections {
  const sockets = new Set<net.Socket>()
  // `socket` is a documented postgres.js option missing from its type definitions.
  const socketOption = { socket: (target: SocketTarget) => socketWithNoDelay(target, sockets) } as Record<string, unknown>
  const sql: Sql = openPool(options.url, {
    ...socketOption,
    max: options.connections,
    connect_timeout: Math.ceil(options.connectTimeoutMs / 1000),
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    // Our SQL only sends text and jsonb; no type-fetching round trip needed.
    fetch_types: false,
    // Per connection rather than `set local` in each batch's transaction: one round trip less per batch.
    connection: {
      application_name: 'pino-sluice',
      ...(options.synchronousCommit === 'off' ? { synchronous_commit: 'off' } : {}),
      // No statement of ours, a wait on a lock included, outlives the retry budget (at least the connect
      // timeout, so a tiny budget still lets a healthy server answer). A retry tightens both per transaction.
      statement_timeout: statementLimitMs(options),
      lock_timeout: statementLimitMs(options),
    },
  })
  return {
    sql,
    dropAll() {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
  }
}
