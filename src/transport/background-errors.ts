import { isMainThread } from 'node:worker_threads'
import { currentSink } from '../pipeline/sink-context.js'

/**
 * Errors nobody awaits, caught at the worker's edge. In a worker thread,
 * `process` 'uncaughtException' and 'unhandledRejection' listeners see only
 * this thread's errors, and thread-stream's own listeners end the worker on
 * either, losing every record in flight. So:
 *
 * - an error raised in a custom sink's context (a socket's 'error' with no
 *   listener, a promise it never awaited, a throw from its timer; see
 *   src/pipeline/sink-context.ts) is counted (`sink_background_errors`),
 *   printed once naming the sink, and the worker goes on;
 * - postgres.js 3.4's `sql.begin` sends ROLLBACK on a connection that already
 *   died (seen when Postgres is SIGKILLed mid-batch): the write is scheduled
 *   with setImmediate and throws there, after `sql.begin` has rejected with
 *   the connection error, which the sink retries. That throw carries nothing
 *   we need and passes to nobody;
 * - anything else is ours and goes where it went before: to thread-stream's
 *   listeners (the app hears 'error'), or, in createSluice's worker, which has
 *   none, the default way (the destination's 'error').
 *
 * What no listener can contain: a sink that blocks the event loop (a busy
 * loop, a sync read of a slow file) stops the whole worker while it runs.
 */
export function containBackgroundErrors(onSinkError: (sink: string, error: unknown) => void): void {
  if (isMainThread) return
  const inherited = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  }
  process.removeAllListeners('uncaughtException')
  process.removeAllListeners('unhandledRejection')
  const uncaught = (error: Error, origin: NodeJS.UncaughtExceptionOrigin): void => {
    const sink = currentSink()
    if (sink !== undefined) return onSinkError(sink, error)
    if (isLostSocketWrite(error)) return
    if (inherited.uncaughtException.length > 0) {
      for (const listener of inherited.uncaughtException) listener.call(process, error, origin)
      return
    }
    // A worker of our own (createSluice's) has no one to forward to: let the error end the
    // worker the default way, which reaches the app as the destination's 'error'.
    process.off('uncaughtException', uncaught)
    setImmediate(() => {
      throw error
    })
  }
  const unhandled = (reason: unknown, promise: Promise<unknown>): void => {
    const sink = currentSink()
    if (sink !== undefined) return onSinkError(sink, reason)
    if (inherited.unhandledRejection.length > 0) {
      for (const listener of inherited.unhandledRejection) listener.call(process, reason, promise)
      return
    }
    // Node's default for an unhandled rejection: it becomes an uncaught exception.
    throw reason
  }
  process.on('uncaughtException', uncaught)
  process.on('unhandledRejection', unhandled)
}

function isLostSocketWrite(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.message.includes("reading 'write'") &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '') &&
    /nextWrite/.test(error.stack ?? '')
  )
}
