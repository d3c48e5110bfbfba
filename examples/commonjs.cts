/**
 * pino-sluice from a CommonJS app: `require('pino-sluice')` works on the
 * supported Node versions (20.19+, 22.12+), which load ES modules from
 * require(). On an older Node, use `const { createSluice } = await import('pino-sluice')`.
 *
 *   node dist/examples/commonjs.cjs     (DATABASE_URL, or an embedded Postgres; compiled from commonjs.cts)
 */
import pino = require('pino')
import sluiceModule = require('pino-sluice')

const { createSluice } = sluiceModule

async function main(): Promise<void> {
  // import() also works from CommonJS, on any Node.
  const { exampleDatabase } = await import('./support/example-database.js')
  const database = await exampleDatabase()
  try {
    const sluice = createSluice({ postgres: { url: database.url, table: 'example_commonjs_logs' } })
    const log = pino(sluice.transport)
    log.info({ style: 'commonjs' }, 'hello from require()')
    await sluice.close()
    const s = sluice.stats.read()
    process.stdout.write(`received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`)
    if (s.written !== 1) process.exitCode = 1
  } finally {
    await database.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
