import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which custom sink the code running now belongs to. Every call into a custom
 * sink (its factory, start, write, flush, close) runs inside `runAsSink`, and
 * everything it starts inherits the name: sockets, timers and promises made
 * there report their errors under it, long after the call returned
 * (src/transport/background-errors.ts). Built-in sinks are not marked: their
 * errors are ours.
 */
const current = new AsyncLocalStorage<string>()

export function runAsSink<T>(name: string, fn: () => T): T {
  return current.run(name, fn)
}

/** The custom sink whose code (or whose callbacks) is running now, if any. */
export function currentSink(): string | undefined {
  return current.getStore()
}
