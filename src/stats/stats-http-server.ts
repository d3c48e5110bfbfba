import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { prometheusText } from './prometheus-text.js'
import type { StatsSnapshot } from './stats-snapshot.js'

export interface StatsHttpServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves `/metrics` (Prometheus text) and `/stats` (the snapshot as JSON) on
 * 127.0.0.1 only: counters are for the operator of this host, not the network.
 * Each request reads the counters live.
 */
export async function startStatsHttpServer(port: number, snapshot: () => StatsSnapshot): Promise<StatsHttpServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
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
  })
  // The server must never keep the app (or its worker) alive.
  server.unref()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
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
