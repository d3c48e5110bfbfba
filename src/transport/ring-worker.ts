/**
 * The worker createSluice starts. Lines arrive through a ring in shared
 * memory that the app thread writes into (src/ring/ring-layout.ts):
 *
 *   app thread                         worker thread (this file)
 *   ──────────                         ────────────────────────────────────────────────────────────────
 *   pino ─► SluiceDestination ─► ring ─► RingPump ─► BoundedChannel ─► Batcher ─► stages ─► store of record
 *           encode into shared   bytes   batch ahead  drop + count      flush by   S3 offload,  Postgres (default),
 *           memory or drop+count         while room                     size/time  CloudWatch,  file or custom
 *                                                                                  custom    └► fan-out sinks
 *
 * Messages from the app: `flush` (answered with `flushed`) and `close`; the
 * shared CLOSE flag asks the same when the app thread can no longer receive
 * messages (process exit), and the worker answers in the CLOSED slot.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { RingReader } from '../ring/ring-reader.js'
import type { RingWorkerData, ToApp, ToWorker } from './ring-messages.js'
import { RingPump } from './ring-pump.js'
import { startPipeline } from './start-pipeline.js'

const { options, ring } = workerData as RingWorkerData
const port = parentPort
if (!port) throw new Error('pino-sluice: ring-worker.js runs only as the worker createSluice() starts')
const post = (message: ToApp): void => port.postMessage(message)

// A sink that cannot be loaded throws here: the app hears it as the worker's 'error'.
const running = await startPipeline(options)
const reader = new RingReader(ring)
const pump = new RingPump(reader, running)

port.on('message', (message: ToWorker) => {
  if (message.type === 'flush') {
    pump.flush(message.writePos).then(
      () => post({ type: 'flushed', id: message.id }),
      (error: unknown) => post({ type: 'flushed', id: message.id, error: error instanceof Error ? error.message : String(error) }),
    )
  } else if (message.type === 'close') {
    void pump.close()
  } else if (message.type === 'line') {
    pump.takeAside(message.line)
    post({ type: 'taken', chars: message.line.length })
  }
})

pump
  .run()
  .then(() => pump.close())
  .then(() => {
    reader.markClosed()
    post({ type: 'closed' })
    port.close()
  })
  .catch((error: unknown) => {
    // Nothing in the pump is meant to throw; if it does, let the app hear of it as the worker's 'error'.
    setImmediate(() => {
      throw error
    })
  })
post({ type: 'ready' })
