import pino from 'pino'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/**
 * The floor of any destination: pino serializes each call and hands the line
 * to a destination that does nothing with it. What a transport adds to the
 * app thread (ns per call, RSS) is measured against this.
 */
export async function runPinoNoop(spec: AppSpec): Promise<AppResult> {
  const logger = pino({}, { write() {} })
  return runLogger(logger, spec.emission, async () => ({ done: true }))
}
