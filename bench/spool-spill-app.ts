/**
 * The app thread of bench/spool-spill.ts's ring spill: writes every line
 * into the shared ring as the app's destination does, and when the ring is
 * full waits a moment for the reader instead of dropping (the bench measures
 * how fast the reader spills every byte, so none may be lost on the way).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { RingMemory } from '../src/ring/ring-layout.js'
import { RingWriter, WriteResult } from '../src/ring/ring-writer.js'

const { memory, lines } = workerData as { memory: RingMemory; lines: string[] }
const writer = new RingWriter(memory, 1024 * 1024)
const pause = new Int32Array(new SharedArrayBuffer(4))
parentPort?.once('message', () => {
  for (const line of lines) {
    while (writer.write(line) === WriteResult.Full) Atomics.wait(pause, 0, 0, 0.05)
  }
  parentPort?.postMessage('written')
})
parentPort?.postMessage('ready')
