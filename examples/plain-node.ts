/**
 * The smallest app: pino with `target: 'pino-sluice'`, a few log lines, then
 * the counters and the rows they became.
 *
 *   node dist/examples/plain-node.js     (DATABASE_URL, or an embedded Postgres)
 */
import { once } from 'node:events'
import pino from 'pino'
import postgres from 'postgres'
import { createStats } from 'pino-sluice'
import { exampleDatabase } from './support/example-database.js'

const database = await exampleDatabase()
try {
  // Optional: live counters shared with the worker thread.
  const stats = createStats()
  const transport = pino.transport({
    target: 'pino-sluice',
    options: { postgres: { url: database.url, table: 'example_plain_logs' }, counters: stats.buffer },
  })
  const log = pino(transport)

  log.info({ user: 42, route: '/checkout' }, 'order placed')
  log.child({ module: 'billing' }).warn({ attempt: 2 }, 'card declined, retrying')
  log.error(new Error('payment provider timed out'), 'order failed')

  // flush() calls back once everything logged so far is committed (or counted as dropped/failed).
  await new Promise<void>((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve())))
  const s = stats.read()
  process.stdout.write(`received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`)

  const sql = postgres(database.url, { onnotice: () => {} })
  const rows = await sql`select level, msg, data from example_plain_logs where pid = ${process.pid} order by seq`
  for (const row of rows) process.stdout.write(`  ${row.level}  ${row.msg}  ${JSON.stringify(row.data)}\n`)
  await sql.end()

  // At exit pino ends the transport for you. Here the embedded database stops
  // next, so end it first: end() blocks until the worker has drained, then 'finish'.
  transport.end()
  await once(transport, 'finish')
  if (s.received !== s.written + s.dropped + s.failed || s.written < 3) process.exitCode = 1
} finally {
  await database.stop()
}
