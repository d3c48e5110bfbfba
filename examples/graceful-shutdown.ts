/**
 * Graceful shutdown: on SIGTERM (what Kubernetes, systemd and `docker stop`
 * send) or Ctrl+C, stop taking requests, drain and commit every queued log
 * line, then exit with the signal's status, so nothing logged is lost.
 *
 *   node dist/examples/graceful-shutdown.js     then: curl localhost:<port>/work, and Ctrl+C
 *
 * Uses DATABASE_URL, or an embedded Postgres that it stops on the way out.
 */
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import pino from 'pino'
import { closeOnSignals, createSluice } from 'pino-sluice'
import { exampleDatabase } from './support/example-database.js'

const database = await exampleDatabase({ appHandlesSignals: true })
// exit.budgetMs bounds the drain: pino's own exit hook gives up on the worker after 10 s.
const sluice = createSluice({ postgres: { url: database.url, table: 'example_shutdown_logs' }, exit: { budgetMs: 5000 } })
const run = randomUUID()
const log = pino(sluice.transport).child({ run })

const server = http.createServer((request, response) => {
  log.info({ method: request.method, url: request.url }, 'request handled')
  response.end('ok\n')
})

// `before` runs first, while the sluice still takes lines: the server stops taking requests and
// those in flight finish (and log). Then the sluice drains and commits, then the signal is re-raised.
// closeOnSignals takes anything with close(): the app's own steps after the sluice's go there.
closeOnSignals(
  {
    async close() {
      await sluice.close()
      const s = sluice.stats.read()
      process.stdout.write(`drained: received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`)
      await database.stop()
    },
  },
  {
    before: async () => {
      log.info('shutting down')
      await new Promise((resolve) => server.close(resolve))
    },
  },
)

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  log.info({ port }, 'listening')
  process.stdout.write(`listening on http://127.0.0.1:${port} (pid ${process.pid}, run ${run}); Ctrl+C or SIGTERM to stop\n`)
})
