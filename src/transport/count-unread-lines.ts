import { workerData } from 'node:worker_threads'

/** thread-stream 4's shared state (lib/indexes.js): Int32 slots of the write and read positions. */
const WRITE_INDEX = 4
const READ_INDEX = 8
const NEWLINE = 10

/**
 * Lines the app has already handed to pino.transport() that this worker will
 * never read, because it fails to start: pino.transport() returns at once and
 * the app logs before the worker has loaded, straight into thread-stream's
 * shared buffer (its workerData.dataBuf). Counts the complete lines there and
 * closes the buffer to further writes the way thread-stream's own worker does
 * when its destination fails (both positions set to -2), so the count is of
 * every line the app got in. 0 when the buffer is not thread-stream's.
 */
export function closeAndCountUnreadLines(): number {
  const shared = workerData as { dataBuf?: unknown; stateBuf?: unknown } | null | undefined
  if (!(shared?.dataBuf instanceof SharedArrayBuffer) || !(shared.stateBuf instanceof SharedArrayBuffer) || shared.stateBuf.byteLength <= READ_INDEX * 4) return 0
  const state = new Int32Array(shared.stateBuf)
  const data = new Uint8Array(shared.dataBuf)
  for (;;) {
    const end = Atomics.load(state, WRITE_INDEX)
    const start = Atomics.load(state, READ_INDEX)
    if (start < 0 || end < start || end > data.length) return 0
    let lines = 0
    for (let i = start; i < end; i++) if (data[i] === NEWLINE) lines++
    // The app thread wrote meanwhile: count again, so no line is left between the count and the close.
    if (Atomics.compareExchange(state, WRITE_INDEX, end, -2) !== end) continue
    Atomics.store(state, READ_INDEX, -2)
    Atomics.notify(state, WRITE_INDEX)
    Atomics.notify(state, READ_INDEX)
    return lines
  }
}
