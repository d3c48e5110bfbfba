import pino from 'pino'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/** The floor of the logger itself: serialize and write(2) to /dev/null on the calling thread. */
export async function runPinoSync(spec: AppSpec): Promise<AppResult> {
  const destination = pino.destination({ dest: '/dev/null', sync: true })
  const logger = pino(destination)
  return runLogger(logger, spec.emission, async () => {
    destination.flushSync()
    return { done: true }
  })
}
