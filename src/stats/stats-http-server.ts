import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostChecker } from './allowed-host.js'
import { prometheusText } from './prometheus-text.js'
import type { StatsSnapshot } from './stats-snapshot.js'

export interface StatsHttpServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * What one client may hold (issue 27 item 9: 3,000 half-sent requests held
 * 3,027 file descriptors, 20 still open after 400 s). A scrape is one small
 * GET; nothing legitimate needs more. Not options: tests pass shorter ones.
 */
export interface StatsHttpLimits {
  /** Connections open at once; more are closed as they arrive (Prometheus uses one per target). */
  readonly maxConnections: number
  /** A request whose headers are not all in by then gets 408 and is closed; idle new connections too. */
  readonly headersTimeoutMs: number
  /** The whole request. */
  readonly requestTimeoutMs: number
  /** An idle kept-alive connection between requests. */
  readonly keepAliveTimeoutMs: number
  /** How often Node checks the two timeouts above (so they may run late by up to this much). */
  readonly checkIntervalMs: number
}

export const STATS_HTTP_LIMITS: StatsHttpLimits = Object.freeze({
  maxConnections: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  checkIntervalMs: 1000,
})

/**
 * Serves `/metrics` (Prometheus text) and `/stats` (the snapshot as JSON) on
 * `host` (127.0.0.1 unless `stats.host` says otherwise): counters are for the
 * operator of this host, not the network. Each request reads the counters
 * live. Requests naming another `Host` get 421 (see allowed-host.ts).
 */
export async function startStatsHttpServer(
  port: number,
  host: string,
  snapshot: () => StatsSnapshot,
  limits: StatsHttpLimits = STATS_HTTP_LIMITS,
): Promise<StatsHttpServer> {
  const hostAllowed = hostChecker(host)
  const server: Server = createServer(
    { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
    (request, response) => {
      const path = (request.url ?? '/').split('?')[0]
      if (!hostAllowed(request.headers.host)) {
        response.writeHead(421, { 'content-type': 'text/plain', connection: 'close' }).end('pino-sluice answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]) or to stats.host\n')
        return
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end()
        return
      }
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(prometheusText(snapshot()))
      } else if (path === '/stats') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(snapshot())}\n`)
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('pino-sluice serves /metrics (Prometheus) and /stats (JSON)\n')
      }
    },
  )
  server.maxConnections = limits.maxConnections
  // A connection that goes quiet (a client that stops reading, say) is closed after the request timeout.
  server.setTimeout(limits.requestTimeoutMs, (socket) => socket.destroy())
  // The server must never keep the app (or its worker) alive.
  server.unref()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
