import pino from 'pino'
import { createSluice } from '../../src/index.js'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/** A record the row count leaves out (bench-database.ts skips rows whose data has `pino_sluice`). */
export const WARM_UP = { pino_sluice: 'bench warm-up' }

/**
 * pino-sluice the way the README tells apps to use it: `createSluice(options)`
 * and `pino(sluice.transport)`, done once `flush()` resolves. Only the public
 * API is called, so whatever createSluice is built on (thread-stream today,
 * an app-thread ring later) is what gets measured.
 */
export async function runCreateSluice(spec: AppSpec): Promise<AppResult> {
  const sluice = createSluice({ ...spec.sluiceOptions, postgres: { url: spec.databaseUrl, table: spec.table }, exit: { report: false } })
  const logger = pino(sluice.transport)
  const result = await runLogger(
    logger,
    spec.emission,
    async () => {
      await sluice.flush()
      return { done: true }
    },
    async () => {
      logger.info(WARM_UP)
      await sluice.flush()
    },
  )
  await sluice.close()
  return { ...result, counters: sluice.stats.readFlat() }
}
