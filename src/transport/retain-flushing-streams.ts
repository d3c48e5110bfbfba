import type { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { isMainThread } from 'node:worker_threads'

type FlushCallback = (error?: Error) => void
interface ThreadStreamPrototype {
  flush(this: EventEmitter, cb?: FlushCallback): unknown
  [PATCHED]?: true
}

const PATCHED = Symbol.for('pino-sluice.retain-flushing-streams')
/** Streams an app has flushed, held strongly until they close. */
const held = new Set<EventEmitter>()

/**
 * Works around thread-stream (4.2) collecting a stream whose worker still has
 * work. Once its worker is ready, thread-stream holds the stream only through
 * a WeakRef and terminates the worker when the stream is collected; pino's
 * exit hook holds it weakly too. The README's Quick start ends with
 * `transport.flush(cb)` and keeps no reference: at the next GC (about 8 s in,
 * measured) the worker was killed mid-retry, so the callback never fired,
 * nothing was printed and the process exited 0 with its records lost. After
 * the callback, a GC before exit still lost the totals line. (thread-stream
 * retains an *ending* stream since pinojs/thread-stream#247; a flushed one is
 * not covered.)
 *
 * Here, on the app thread, a stream `flush(cb)` was called on is held until it
 * closes, so its worker always ends through pino's exit hook: drained, with
 * its exit report. Installed once per process when the app imports
 * pino-sluice; a thread-stream that cannot be found from pino is left alone.
 */
export function retainFlushingStreams(): void {
  if (!isMainThread) return
  let proto: ThreadStreamPrototype
  try {
    const fromPino = createRequire(createRequire(import.meta.url).resolve('pino'))
    proto = (fromPino('thread-stream') as { prototype: ThreadStreamPrototype }).prototype
  } catch {
    return
  }
  if (typeof proto?.flush !== 'function' || proto[PATCHED]) return
  const flush = proto.flush
  proto.flush = function flushHoldingStream(this: EventEmitter, cb?: FlushCallback): unknown {
    if (!held.has(this)) {
      held.add(this)
      this.once('close', () => held.delete(this))
    }
    return flush.call(this, cb)
  }
  proto[PATCHED] = true
}
