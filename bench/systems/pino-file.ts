import { once } from 'node:events'
import pino from 'pino'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/** The floor of any worker transport: thread-stream to pino's own file target, which writes to /dev/null. */
export async function runPinoFile(spec: AppSpec): Promise<AppResult> {
  const transport = pino.transport({ target: 'pino/file', options: { destination: '/dev/null' } })
  await once(transport, 'ready')
  const logger = pino(transport)
  return runLogger(logger, spec.emission, async () => {
    const closed = once(transport, 'close')
    transport.end()
    await closed
    return { done: true }
  })
}
