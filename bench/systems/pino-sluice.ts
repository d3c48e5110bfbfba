import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createStats } from '../../src/index.js'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { WARM_UP } from './create-sluice.js'
import { runLogger } from './run-logger.js'

/** A channel that holds a whole default burst: measures the database path without drops (and what holding it costs in RSS). */
export const BIG_CHANNEL = { maxRecords: 2_000_000, maxBytes: 1024 * 2 ** 20 }
/** createSluice's app-side ring drops what does not fit (by design): for the burst to reach the channel whole, it must hold the burst too. */
export const BIG_RING = { bytes: 256 * 2 ** 20 }

export const WORKER_ENTRY = fileURLToPath(new URL('../../src/index.js', import.meta.url))

/**
 * pino-sluice with its defaults (plus any --sluice options): done once flush(cb)
 * says everything is committed. `sync: true` makes thread-stream copy each line
 * into its ring buffer at once (waiting while the ring is full) instead of
 * queueing it on the main thread until the app yields, which in a tight loop
 * means the whole burst; see README "Benchmarks".
 */
export async function runPinoSluice(spec: AppSpec, sync = false): Promise<AppResult> {
  const stats = createStats()
  const transport = pino.transport({
    target: WORKER_ENTRY,
    // `sync` is a documented pino.transport option missing from pino's types.
    ...({ sync } as object),
    options: { ...spec.sluiceOptions, postgres: { url: spec.databaseUrl, table: spec.table }, counters: stats.buffer, exit: { report: false } },
  })
  await once(transport, 'ready')
  const logger = pino(transport)
  const flush = (): Promise<void> => new Promise<void>((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve())))
  const result = await runLogger(
    logger,
    spec.emission,
    async () => {
      await flush()
      return { done: true }
    },
    async () => {
      logger.info(WARM_UP)
      await flush()
    },
  )
  const keepAlive = setInterval(() => {}, 1000)
  const closed = once(transport, 'close')
  transport.end()
  await closed
  clearInterval(keepAlive)
  return { ...result, counters: stats.readFlat() }
}
