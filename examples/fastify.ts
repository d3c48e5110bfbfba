/**
 * Fastify 5 with pino-sluice, both ways Fastify takes a logger; every request
 * log (`request.log`, Fastify's own "incoming request"/"request completed")
 * lands in Postgres, off the request path.
 *
 *   npm install fastify && node dist/examples/fastify.js     (DATABASE_URL, or an embedded Postgres)
 *
 * Which to pick:
 *   - `loggerInstance: pino(sluice.transport)` with createSluice(): the app
 *     thread writes each line into a bounded shared-memory ring and drops (and
 *     counts) what does not fit. Pick this one for bursts: memory stays flat.
 *   - `logger: { transport: { target: 'pino-sluice' } }`: pino's own
 *     transport. Simple, config only, but in a tight burst pino queues lines
 *     on the app thread without bound until the event loop turns (see
 *     docs/benchmarks.md).
 *
 * fastify is not a dependency of pino-sluice, so this file loads it with a
 * dynamic import and types the few calls it makes itself; it prints how to get
 * it and exits 1 when it is missing.
 */
import pino from 'pino'
import postgres from 'postgres'
import { createSluice } from 'pino-sluice'
import { exampleDatabase } from './support/example-database.js'

/** The slice of Fastify 5's API used here. */
interface FastifyApp {
  get(path: string, handler: (request: { log: { info(fields: object, msg: string): void } }) => Promise<unknown>): void
  listen(options: { port: number; host: string }): Promise<string>
  close(): Promise<void>
  log: { flush(callback: (error?: Error) => void): void }
}
type FastifyOptions = { logger: { transport: { target: string; options: object } } } | { loggerInstance: pino.Logger }
type FastifyFactory = (options: FastifyOptions) => FastifyApp

async function loadFastify(): Promise<FastifyFactory | undefined> {
  const name = 'fastify' // a variable, so the build does not need fastify installed
  try {
    const module = (await import(name)) as { default: FastifyFactory }
    return module.default
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw error
  }
}

async function serveThreeRequests(app: FastifyApp): Promise<void> {
  app.get('/hello', async (request) => {
    request.log.info({ greeted: 'world' }, 'saying hello')
    return { hello: 'world' }
  })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  for (let i = 0; i < 3; i++) await (await fetch(`${address}/hello`)).json()
  await app.close()
}

const Fastify = await loadFastify()
if (!Fastify) {
  process.stderr.write('fastify is not installed: run `npm install fastify` to try this example.\n')
  process.exit(1)
}

const database = await exampleDatabase()
try {
  // 1. Fastify's logger config: pino.transport() under the hood.
  const viaConfig = Fastify({
    logger: { transport: { target: 'pino-sluice', options: { postgres: { url: database.url, table: 'example_fastify_logs' } } } },
  })
  await serveThreeRequests(viaConfig)
  // logger.flush(cb) calls back once the transport has committed what was logged.
  await new Promise<void>((resolve, reject) => viaConfig.log.flush((error) => (error ? reject(error) : resolve())))

  // 2. Your own pino instance on createSluice(): bounded at the app thread.
  const sluice = createSluice({ postgres: { url: database.url, table: 'example_fastify_ring_logs' } })
  await serveThreeRequests(Fastify({ loggerInstance: pino(sluice.transport) }))
  await sluice.close()

  const sql = postgres(database.url, { onnotice: () => {} })
  let ok = true
  for (const table of ['example_fastify_logs', 'example_fastify_ring_logs']) {
    const rows = await sql`select msg, count(*)::int as n from ${sql(table)} where pid = ${process.pid} group by msg order by msg`
    process.stdout.write(`${table}:\n`)
    for (const row of rows) process.stdout.write(`  ${row.n} × ${row.msg}\n`)
    ok &&= rows.some((row) => row.msg === 'saying hello' && row.n === 3)
  }
  await sql.end()
  if (!ok) process.exitCode = 1
} finally {
  await database.stop()
}
