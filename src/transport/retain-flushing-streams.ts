import { createRequire } from 'node:module'
import { isMainThread } from 'node:worker_threads'

type FlushCallback = (error?: Error) => void
interface ThreadStreamPrototype {
  flush(this: object, cb?: FlushCallback): unknown
  [PATCHED]?: true
}

const PATCHED = Symbol.for('pino-sluice.retain-flushing-streams')
/** Streams with a flush callback pending, and how many: a strong reference keeps each from the garbage collector. */
const flushing = new Map<object, number>()

function hold(stream: object): () => void {
  flushing.set(stream, (flushing.get(stream) ?? 0) + 1)
  let released = false
  return () => {
    if (released) return
    released = true
    const left = (flushing.get(stream) ?? 1) - 1
    if (left > 0) flushing.set(stream, left)
    else flushing.delete(stream)
  }
}

/**
 * Works around thread-stream (4.2) collecting a stream whose flush is pending.
 * Once its worker is ready, thread-stream holds the stream only through a
 * WeakRef and terminates the worker when the stream is collected. The README's
 * Quick start ends with `transport.flush(cb)` and keeps no reference: at the
 * next GC (about 8 s in, measured) the worker was killed mid-retry, so the
 * callback never fired, nothing was printed, and the process exited 0 with its
 * records lost. (thread-stream retains an *ending* stream the same way since
 * pinojs/thread-stream#247; a pending flush is not covered.)
 *
 * Here, on the app thread, thread-stream's `flush(cb)` holds a strong
 * reference to its stream until the callback runs (or fails because the worker
 * exited). Installed once per process when the app imports pino-sluice; a
 * thread-stream that cannot be found from pino is left alone.
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
  proto.flush = function flushHoldingStream(this: object, cb?: FlushCallback): unknown {
    if (typeof cb !== 'function') return flush.call(this, cb)
    const release = hold(this)
    return flush.call(this, (error?: Error) => {
      release()
      cb(error)
    })
  }
  proto[PATCHED] = true
}
