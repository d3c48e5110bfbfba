import { isMainThread } from 'node:worker_threads'

/**
 * postgres.js 3.4's `sql.begin` sends ROLLBACK on its connection after that
 * connection died (seen when Postgres is SIGKILLed mid-batch): the write is
 * scheduled with setImmediate and throws there, because the socket is already
 * null. By then `sql.begin` has rejected with the connection error, which the
 * sink retries, so the throw carries nothing we need. thread-stream turns every
 * uncaught exception into a worker exit; in the worker thread we let this one,
 * and only this one, pass to nobody.
 */
export function tolerateLostSocketWrites(): void {
  if (isMainThread) return
  const inherited = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  const tolerate = (error: Error, origin: NodeJS.UncaughtExceptionOrigin): void => {
    if (isLostSocketWrite(error)) return
    if (inherited.length > 0) {
      for (const listener of inherited) listener.call(process, error, origin)
      return
    }
    // A worker of our own (createSluice's) has no one to forward to: let the error end the
    // worker the default way, which reaches the app as the destination's 'error'.
    process.off('uncaughtException', tolerate)
    setImmediate(() => {
      throw error
    })
  }
  process.on('uncaughtException', tolerate)
}

function isLostSocketWrite(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.message.includes("reading 'write'") &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '') &&
    /nextWrite/.test(error.stack ?? '')
  )
}
