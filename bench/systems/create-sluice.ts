import pino from 'pino'
import { createSluice } from '../../src/index.js'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/**
 * pino-sluice the way the README tells apps to use it: `createSluice(options)`
 * and `pino(sluice.transport)`, done once `flush()` resolves. Only the public
 * API is called, so whatever createSluice is built on (thread-stream today,
 * an app-thread ring later) is what gets measured.
 */
export async function runCreateSluice(spec: AppSpec): Promise<AppResult> {
  const sluice = createSluice({ ...spec.sluiceOptions, postgres: { url: spec.databaseUrl, table: spec.table }, exit: { report: false } })
  const logger = pino(sluice.transport)
  const result = await runLogger(logger, spec.emission, async () => {
    await sluice.flush()
    return { done: true }
  })
  await sluice.close()
  return { ...result, counters: sluice.stats.readFlat() }
}
