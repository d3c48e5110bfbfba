/**
 * The ring under a real concurrent reader: the built RingReader in a worker
 * thread reads while this thread writes, so the early wrap's ordering (the
 * wrap mark before the frame's position) is exercised by two cores, not by a
 * schedule spelled out in one thread (that is test/unit/ring-early-wrap.test.ts).
 * A tiny ring makes every few lines a wrap, and the writer waits for an empty
 * ring at random points, so early wraps meet a reader that is mid-read.
 */
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { allocateRing } from '../../src/ring/ring-layout.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'

const READER_URL = new URL('../../dist/src/ring/ring-reader.js', import.meta.url).href

/** Reads until END with read sizes from `seed`, checking every line is whole and the next in order. */
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
import(workerData.readerUrl).then(({ RingReader }) => {
  const reader = new RingReader(workerData.memory)
  let seed = workerData.seed
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  let expected = 0
  for (;;) {
    const lines = []
    reader.read(1 + Math.floor(random() * 8), 1 + Math.floor(random() * 300), lines, [])
    for (const line of lines) {
      if (line === 'END') return parentPort.postMessage({ read: expected })
      const [seq, length, body] = line.split(':')
      if (Number(seq) !== expected || body.length !== Number(length) || body !== 'x'.repeat(body.length)) {
        return parentPort.postMessage({ read: expected, bad: line })
      }
      expected++
    }
  }
})
`

async function runOnce(capacity: number, lengths: number[], waitForEmpty: boolean[], seed: number): Promise<{ read: number; bad?: string }> {
  const memory = allocateRing(capacity)
  const writer = new RingWriter(memory, capacity)
  const worker = new Worker(READER_SOURCE, { eval: true, workerData: { memory, readerUrl: READER_URL, seed } })
  const result = new Promise<{ read: number; bad?: string }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  // Spins (the reader runs on its own thread), bounded: a reader that lost its way must fail the test, not hang it.
  const deadline = Date.now() + 20_000
  const spinUntil = (done: () => boolean, what: string): void => {
    while (!done()) if (Date.now() > deadline) throw new Error(`the reader stopped reading (${what})`)
  }
  const writeWhole = (line: string): void => spinUntil(() => writer.write(line) !== WriteResult.Full, `full at ${line.slice(0, 12)}`)
  try {
    lengths.forEach((length, seq) => {
      if (waitForEmpty[seq % waitForEmpty.length]) spinUntil(() => writer.unreadBytes() === 0, `never empty before ${seq}`)
      writeWhole(`${seq}:${length}:${'x'.repeat(length)}`)
    })
  } catch (error) {
    await worker.terminate()
    throw error
  }
  writeWhole('END')
  try {
    return await result
  } finally {
    await worker.terminate()
  }
}

it('hands every line to a concurrent reader exactly once, whole and in order, through wraps and early wraps (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(64, 256, 1024),
      fc.array(fc.nat({ max: 48 }), { minLength: 2000, maxLength: 6000 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
      fc.nat(),
      async (capacity, lengths, waitForEmpty, seed) => {
        const { read, bad } = await runOnce(capacity, lengths, waitForEmpty, seed)
        expect(bad).toBeUndefined()
        expect(read).toBe(lengths.length)
      },
    ),
    { numRuns: 12 },
  )
})
