/**
 * The ring costs only its high-water mark: a write that finds the ring empty
 * starts again at offset 0 (src/ring/ring-layout.ts). Both ends in one thread,
 * every interleaving of whole operations spelled out; the same ring under a
 * real concurrent reader is test/integration/ring-concurrent.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allocateRing, frameBytes, NO_WRAP, WRAPPED_AT } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'

function ring(capacity: number) {
  const memory = allocateRing(capacity)
  const state = new Int32Array(memory.state)
  return { writer: new RingWriter(memory, capacity), reader: new RingReader(memory), wrappedAt: () => state[WRAPPED_AT] }
}

function readAll(reader: RingReader, maxRecords = Number.MAX_SAFE_INTEGER, maxBytes = Number.MAX_SAFE_INTEGER): string[] {
  const lines: string[] = []
  reader.read(maxRecords, maxBytes, lines, [])
  return lines
}

const offsetOf = (position: number, capacity: number): number => position & (capacity - 1)

describe('early wrap', () => {
  it('starts the next line at offset 0 when the reader has taken everything', () => {
    const { writer, reader, wrappedAt } = ring(1024)
    writer.write('a'.repeat(100))
    expect(readAll(reader)).toEqual(['a'.repeat(100)])
    expect(offsetOf(writer.position, 1024)).toBe(frameBytes(100))
    writer.write('b'.repeat(10))
    // The next lap: offset 0, one frame in.
    expect(writer.position).toBe(1024 + frameBytes(10))
    expect(wrappedAt()).toBe(frameBytes(100))
    expect(readAll(reader)).toEqual(['b'.repeat(10)])
  })

  it("counts only the frames written after an early wrap as unread on both ends, not the lap's skipped bytes", () => {
    const { writer, reader } = ring(1024)
    writer.write('a'.repeat(100))
    readAll(reader)
    writer.write('b'.repeat(10))
    // The ring pump spills under pressure by this figure: a skipped lap once made every steady line look like a burst.
    expect(reader.unreadBytes()).toBe(frameBytes(10))
    expect(writer.unreadBytes()).toBe(frameBytes(10))
    expect(readAll(reader)).toEqual(['b'.repeat(10)])
    expect(reader.unreadBytes()).toBe(0)
  })

  it('never wraps early while a line is unread', () => {
    const { writer, reader, wrappedAt } = ring(1024)
    writer.write('a'.repeat(100))
    writer.write('b'.repeat(100))
    expect(readAll(reader, 1)).toEqual(['a'.repeat(100)])
    writer.write('c')
    expect(writer.position).toBe(2 * frameBytes(100) + frameBytes(1))
    expect(wrappedAt()).toBe(NO_WRAP)
    expect(readAll(reader)).toEqual(['b'.repeat(100), 'c'])
  })

  it('does not wrap at offset 0 already, nor for a line it refuses', () => {
    const { writer, reader, wrappedAt } = ring(64)
    writer.write('x'.repeat(60))
    readAll(reader)
    // Exactly one lap: the position is at offset 0 already.
    expect(writer.position).toBe(64)
    writer.write('y')
    expect(writer.position).toBe(64 + frameBytes(1))
    expect(wrappedAt()).toBe(NO_WRAP)
    readAll(reader)
    expect(writer.write('z'.repeat(61))).toBe(WriteResult.BiggerThanRing)
    expect(writer.position).toBe(64 + frameBytes(1))
    expect(wrappedAt()).toBe(NO_WRAP)
  })

  it('gives the whole ring to the app at once: the skipped bytes cost no room before the reader follows', () => {
    const { writer, reader } = ring(64)
    writer.write('a'.repeat(20))
    readAll(reader)
    // The reader still stands at offset 24; the app may fill all 64 bytes from offset 0.
    expect(writer.write('b'.repeat(28))).toBe(WriteResult.Written)
    expect(writer.write('c'.repeat(28))).toBe(WriteResult.Written)
    expect(writer.unreadBytes()).toBe(64)
    expect(writer.write('d')).toBe(WriteResult.Full)
    expect(readAll(reader, 1)).toEqual(['b'.repeat(28)])
    expect(writer.write('d')).toBe(WriteResult.Written)
    expect(readAll(reader)).toEqual(['c'.repeat(28), 'd'])
  })

  it('knows what was read before and after a wrap the reader has not followed yet', () => {
    const { writer, reader } = ring(256)
    writer.write('one')
    readAll(reader)
    const beforeWrap = writer.position
    writer.write('two')
    const afterWrap = writer.position
    expect(reader.hasRead(beforeWrap)).toBe(true)
    expect(reader.hasRead(afterWrap)).toBe(false)
    expect(readAll(reader)).toEqual(['two'])
    expect(reader.hasRead(beforeWrap)).toBe(true)
    expect(reader.hasRead(afterWrap)).toBe(true)
  })

  it('clears the wrap mark once the reader has followed, so a position met again 4 GiB later never jumps', () => {
    const { writer, reader, wrappedAt } = ring(256)
    writer.write('one')
    readAll(reader)
    writer.write('two')
    expect(wrappedAt()).toBe(frameBytes(3))
    readAll(reader)
    writer.write('three')
    expect(wrappedAt()).not.toBe(frameBytes(3))
  })

  it('follows a wrap in takeRaw and discardAll too', () => {
    const { writer, reader } = ring(256)
    writer.write('one')
    readAll(reader)
    writer.write('two')
    writer.write('three')
    let parts: Buffer[] = []
    expect(reader.takeRaw(1, 1 << 20, (_lines, views) => (parts = views))).toBe(1)
    expect(Buffer.concat(parts).subarray(4, 7).toString()).toBe('two')
    expect(reader.discardAll()).toBe(1)
    writer.write('four')
    expect(readAll(reader)).toEqual(['four'])
  })

  it('touches only the first frame in a steady trickle, and after a burst goes back to offset 0', () => {
    const capacity = 1 << 16
    const { writer, reader } = ring(capacity)
    let highWater = 0
    const line = 'l'.repeat(200)
    for (let i = 0; i < 1000; i++) {
      writer.write(line)
      highWater = Math.max(highWater, offsetOf(writer.position, capacity))
      readAll(reader)
    }
    expect(highWater).toBe(frameBytes(200))
    for (let i = 0; i < 100; i++) writer.write(line)
    readAll(reader)
    writer.write(line)
    expect(offsetOf(writer.position, capacity)).toBe(frameBytes(200))
  })

  it('hands every line over exactly once, in order, under any interleaving of writes and reads of any size (property)', () => {
    const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 12 }))
    const op = fc.oneof(
      text.map((line) => ({ write: line })),
      fc.record({ records: fc.nat({ max: 6 }), bytes: fc.nat({ max: 200 }) }).map((read) => ({ read })),
    )
    fc.assert(
      fc.property(fc.constantFrom(64, 128, 256), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const { writer, reader } = ring(capacity)
        const queued: { line: string; frame: number }[] = []
        let queuedBytes = 0
        let position = 0
        let sent = 0
        const received: string[] = []
        for (const step of ops) {
          if ('write' in step) {
            const line = step.write.replaceAll('\n', ' ')
            const frame = frameBytes(Buffer.byteLength(line))
            const expected = frame > capacity ? WriteResult.BiggerThanRing : queuedBytes + frame > capacity ? WriteResult.Full : WriteResult.Written
            expect(writer.write(line)).toBe(expected)
            if (expected !== WriteResult.Written) continue
            // Empty: the line starts the next lap (unless at offset 0 already); otherwise right after the last.
            if (queued.length === 0 && offsetOf(position, capacity) !== 0) position = ((position & ~(capacity - 1)) + capacity) | 0
            position = (position + frame) | 0
            expect(writer.position).toBe(position)
            queued.push({ line: Buffer.from(line, 'utf8').toString('utf8'), frame })
            queuedBytes += frame
            sent++
          } else {
            const lines = readAll(reader, step.read.records, step.read.bytes)
            for (const line of lines) {
              const next = queued.shift()
              expect(line).toBe(next?.line)
              queuedBytes -= next?.frame ?? 0
            }
            received.push(...lines)
            if (step.read.records > 0 && queued.length + lines.length > 0) expect(lines.length).toBeGreaterThan(0)
          }
        }
        received.push(...readAll(reader))
        expect(received.length).toBe(sent)
        expect(reader.isEmpty()).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
