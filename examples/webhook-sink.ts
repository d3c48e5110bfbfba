/**
 * A custom fan-out sink beside Postgres: every record goes to Postgres (the
 * store of record), and error-level ones are also POSTed to a webhook, here a
 * small HTTP server on loopback standing in for Slack, PagerDuty or your own
 * collector. The sink is ./sinks/error-webhook.ts; its counts are its own.
 *
 *   node dist/examples/webhook-sink.js     (DATABASE_URL, or an embedded Postgres)
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { createSluice } from 'pino-sluice'
import { exampleDatabase } from './support/example-database.js'

// The webhook receiver: remembers what it was sent.
const received: { msg: string; level: number }[] = []
const server = createServer((request, response) => {
  let body = ''
  request.on('data', (chunk: Buffer) => (body += chunk.toString()))
  request.on('end', () => {
    for (const record of (JSON.parse(body) as { records: { msg: string; level: number }[] }).records) received.push(record)
    response.writeHead(204).end()
  })
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`

const database = await exampleDatabase()
try {
  const sluice = createSluice({
    postgres: { url: database.url, table: 'example_webhook_logs' },
    // Resolved from this file, like pino resolves `target`: a path relative to it, a package name, or an absolute path.
    sinks: [{ target: './sinks/error-webhook.js', name: 'webhook', options: { url: hook, minLevel: 50 } }],
  })
  const log = pino(sluice.transport)
  log.info('user signed in')
  log.warn({ attempt: 2 }, 'card declined, retrying')
  log.error({ orderId: 17 }, 'payment provider timed out')
  log.info('order saved')
  log.fatal('out of disk space')

  // flush() waits for Postgres and for the fan-out sinks.
  await sluice.flush()
  const s = sluice.stats.read()
  const webhook = s.sinks.webhook
  process.stdout.write(`received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`)
  process.stdout.write(`sinks.webhook delivered=${webhook?.delivered} failed=${webhook?.failed}\n`)
  process.stdout.write(`the webhook got ${received.length} records: ${received.map((r) => `${r.level} ${r.msg}`).join(' | ')}\n`)
  await sluice.close()
  if (s.written !== 5 || webhook?.delivered !== 5 || received.length !== 2) process.exitCode = 1
} finally {
  server.close()
  await database.stop()
}
