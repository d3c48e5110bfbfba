/**
 * Settles what a pino logger has written with its transport: resolves once
 * the destination says everything so far is handled (for pino-sluice's
 * transport: committed, or counted as dropped/failed), within `timeoutMs`.
 */

type FlushCallback = (error?: Error | null) => void
export interface FlushableStream {
  flush?: (callback: FlushCallback) => unknown
  /** pino.multistream() keeps its destinations here and has no flush(callback). */
  streams?: { stream?: FlushableStream }[]
}
export interface FlushableLogger {
  flush?: (callback?: FlushCallback) => void
}

export class FlushTimeoutError extends Error {
  override readonly name = 'FlushTimeoutError'
}

/**
 * The logger's destination. pino keeps it under a private symbol (a child
 * logger inherits it through its prototype); found by the symbol's
 * description so any pino copy the app loaded works.
 */
export function destinationOf(logger: object): FlushableStream | undefined {
  for (let target: object | null = logger; target !== null; target = Object.getPrototypeOf(target)) {
    for (const symbol of Object.getOwnPropertySymbols(target)) {
      if (symbol.description === 'pino.stream') return (target as Record<symbol, FlushableStream>)[symbol]
    }
  }
  return undefined
}

function flushOne(stream: FlushableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.flush?.((error) => (error ? reject(error) : resolve()))
  })
}

/**
 * `logger.flush(cb)` is enough for a plain pino.transport(), but
 * `@opentelemetry/instrumentation-pino` (log sending on) wraps the transport
 * in a pino.multistream whose flush is a no-op: so the destinations are
 * flushed one by one.
 */
function flushDestination(logger: FlushableLogger): Promise<unknown> {
  const stream = destinationOf(logger)
  const inner = stream?.streams?.map((entry) => entry.stream).filter((s): s is FlushableStream => typeof s?.flush === 'function')
  if (inner !== undefined && inner.length > 0) return Promise.all(inner.map(flushOne))
  if (stream !== undefined && typeof stream.flush === 'function') return flushOne(stream)
  return new Promise<void>((resolve, reject) => {
    if (typeof logger.flush !== 'function') return resolve()
    logger.flush((error) => (error ? reject(error) : resolve()))
  })
}

export async function flushLogger(logger: FlushableLogger, timeoutMs: number, custom?: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FlushTimeoutError(`SluiceSpanProcessor: the logger's transport did not settle within flushTimeoutMs (${timeoutMs} ms); spans not yet committed are still in its queue`)),
      timeoutMs,
    )
  })
  try {
    await Promise.race([custom ? custom() : flushDestination(logger), timeout])
  } finally {
    clearTimeout(timer)
  }
}
