/**
 * Fastify with pino-sluice as its logger's transport: every request log
 * (`request.log`, Fastify's own "incoming request"/"request completed" lines)
 * lands in Postgres, off the request path.
 *
 *   npm install fastify && node dist/examples/fastify.js     (DATABASE_URL, or an embedded Postgres)
 *
 * fastify is not a dependency of pino-sluice, so this file loads it with a
 * dynamic import and types the few calls it makes itself; it type-checks and
 * builds without fastify, prints how to get it and exits 1 when it is missing
 * (the example test skips it then, loudly). In your app it is just:
 *
 *   import Fastify from 'fastify'
 *   const app = Fastify({ logger: { transport: { target: 'pino-sluice', options: { postgres: { table: 'http_logs' } } } } })
 */
import postgres from 'postgres'
import { exampleDatabase } from './support/example-database.js'

/** The slice of Fastify 5's API used here. */
interface FastifyApp {
  get(path: string, handler: (request: { log: { info(fields: object, msg: string): void } }) => Promise<unknown>): void
  listen(options: { port: number; host: string }): Promise<string>
  close(): Promise<void>
  log: { flush(callback: (error?: Error) => void): void }
}
type FastifyFactory = (options: { logger: { transport: { target: string; options: object } } }) => FastifyApp

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

const Fastify = await loadFastify()
if (!Fastify) {
  process.stderr.write('fastify is not installed: run `npm install fastify` to try this example.\n')
  process.exit(1)
}

const TABLE = 'example_fastify_logs'
const database = await exampleDatabase()
try {
  const app = Fastify({
    logger: { transport: { target: 'pino-sluice', options: { postgres: { url: database.url, table: TABLE } } } },
  })
  app.get('/hello', async (request) => {
    request.log.info({ greeted: 'world' }, 'saying hello')
    return { hello: 'world' }
  })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  for (let i = 0; i < 3; i++) await (await fetch(`${address}/hello`)).json()
  await app.close()

  // logger.flush(cb) calls back once the transport has committed what was logged.
  await new Promise<void>((resolve, reject) => app.log.flush((error) => (error ? reject(error) : resolve())))
  const sql = postgres(database.url, { onnotice: () => {} })
  const rows = await sql`select msg, count(*)::int as n from ${sql(TABLE)} where pid = ${process.pid} group by msg order by msg`
  for (const row of rows) process.stdout.write(`  ${row.n} × ${row.msg}\n`)
  await sql.end()
  if (!rows.some((row) => row.msg === 'saying hello' && row.n === 3)) process.exitCode = 1
} finally {
  await database.stop()
}
