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
  process.on('uncaughtException', (error, origin) => {
    if (isLostSocketWrite(error)) return
    for (const listener of inherited) listener.call(process, error, origin)
  })
}

function isLostSocketWrite(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.message.includes("reading 'write'") &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '') &&
    /nextWrite/.test(error.stack ?? '')
  )
}
