/**
 * The app-to-worker ring as a plain synchronous unit: both ends in one
 * thread, so every interleaving a test needs is spelled out, no sleeps.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allocateRing, frameBytes } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'

function ring(capacity: number, maxRecordBytes = capacity) {
  const memory = allocateRing(capacity)
  return { writer: new RingWriter(memory, maxRecordBytes), reader: new RingReader(memory) }
}

function readAll(reader: RingReader, maxRecords = Number.MAX_SAFE_INTEGER, maxBytes = Number.MAX_SAFE_INTEGER) {
  const lines: string[] = []
  const sizes: number[] = []
  reader.read(maxRecords, maxBytes, lines, sizes)
  return { lines, sizes }
}

describe('RingWriter and RingReader', () => {
  it('hands lines over in order without their trailing newline, with their UTF-8 sizes', () => {
    const { writer, reader } = ring(1024)
    for (const line of ['{"a":1}\n', 'no newline', '{"msg":"日本語 🎉"}\n']) expect(writer.write(line)).toBe(WriteResult.Written)
    expect(readAll(reader)).toEqual({ lines: ['{"a":1}', 'no newline', '{"msg":"日本語 🎉"}'], sizes: [7, 10, Buffer.byteLength('{"msg":"日本語 🎉"}')] })
    expect(reader.isEmpty()).toBe(true)
  })

  it('replaces a lone surrogate the way UTF-8 must (U+FFFD), keeping the rest of the line', () => {
    const { writer, reader } = ring(1024)
    writer.write('{"msg":"a\ud800b"}\n')
    expect(readAll(reader).lines).toEqual(['{"msg":"a\ufffdb"}'])
  })

  it('wraps multi-byte lines around the end of the ring intact', () => {
    const { writer, reader } = ring(128)
    // 64 + 32 bytes in, 64 out: one line still waits, so the next starts at offset 96 and its 31 bytes must wrap.
    writer.write('x'.repeat(60))
    writer.write(`${'x'.repeat(27)}\n`)
    readAll(reader, 1)
    const wrapping = '🎉日本語🎉日本語🎉'
    expect(writer.write(`${wrapping}\n`)).toBe(WriteResult.Written)
    expect(readAll(reader).lines).toEqual(['x'.repeat(27), wrapping])
  })

  it('takes a line exactly as big as the ring allows (capacity minus its header) when empty, and refuses one byte more', () => {
    const { writer, reader } = ring(64)
    const exact = 'y'.repeat(64 - 4)
    expect(frameBytes(exact.length)).toBe(64)
    expect(writer.write(exact)).toBe(WriteResult.Written)
    expect(readAll(reader).lines).toEqual([exact])
    // Mid-ring and empty: the same line still fits (it starts the next lap at offset 0).
    writer.write('abcd')
    readAll(reader)
    expect(writer.write(exact)).toBe(WriteResult.Written)
    expect(readAll(reader).lines).toEqual([exact])
    // Within the record limit but bigger than the ring: the app sends it another way.
    expect(writer.write(`${exact}z`)).toBe(WriteResult.BiggerThanRing)
  })

  it('reports Full while there is no room, and takes lines again once the reader has freed space', () => {
    const { writer, reader } = ring(64)
    expect(writer.write('a'.repeat(28))).toBe(WriteResult.Written)
    expect(writer.write('b'.repeat(28))).toBe(WriteResult.Written)
    expect(writer.write('c')).toBe(WriteResult.Full)
    expect(readAll(reader, 1).lines).toEqual(['a'.repeat(28)])
    expect(writer.write('c')).toBe(WriteResult.Written)
    expect(readAll(reader).lines).toEqual(['b'.repeat(28), 'c'])
  })

  it('refuses a line above maxRecordBytes as too large, measured in UTF-8 bytes', () => {
    const { writer, reader } = ring(1024, 10)
    expect(writer.write('0123456789')).toBe(WriteResult.Written)
    expect(writer.write('01234567890')).toBe(WriteResult.TooLarge)
    // Four characters, but 16 bytes.
    expect(writer.write('🎉🎉🎉🎉')).toBe(WriteResult.TooLarge)
    expect(readAll(reader).lines).toEqual(['0123456789'])
    // Also when the ring is full: too large is the reason, not overflow.
    const full = ring(64, 40)
    full.writer.write('a'.repeat(28))
    full.writer.write('b'.repeat(28))
    expect(full.writer.write('c')).toBe(WriteResult.Full)
    expect(full.writer.write('😀'.repeat(11))).toBe(WriteResult.TooLarge)
  })

  it('stops a read before maxBytes would be passed, but always takes one line', () => {
    const { writer, reader } = ring(1024)
    for (const line of ['aaaa', 'bbbb', 'cccc']) writer.write(line)
    expect(readAll(reader, 10, 2).lines).toEqual(['aaaa'])
    expect(readAll(reader, 10, 8).lines).toEqual(['bbbb', 'cccc'])
  })

  it('knows when everything written before a position has been read', () => {
    const { writer, reader } = ring(256)
    writer.write('one')
    const mark = writer.position
    writer.write('two')
    expect(reader.hasRead(mark)).toBe(false)
    readAll(reader, 1)
    expect(reader.hasRead(mark)).toBe(true)
  })

  it('counts what it discards at an exit that ran out of time', () => {
    const { writer, reader } = ring(256)
    for (let i = 0; i < 5; i++) writer.write(`line ${i}`)
    expect(reader.discardAll()).toBe(5)
    expect(reader.isEmpty()).toBe(true)
  })

  it('behaves like a bounded FIFO of byte-sized lines under any schedule (property)', () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }))
    const op = fc.oneof(text.map((line) => ({ write: line })), fc.nat({ max: 5 }).map((n) => ({ read: n })))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const capacity = 128
        const { writer, reader } = ring(capacity)
        const model: string[] = []
        let modelBytes = 0
        for (const step of ops) {
          if ('write' in step) {
            const line = step.write.replaceAll('\n', ' ')
            const encoded = Buffer.from(line, 'utf8').toString('utf8')
            const frame = frameBytes(Buffer.byteLength(line))
            const expected = frame > capacity ? WriteResult.BiggerThanRing : modelBytes + frame > capacity ? WriteResult.Full : WriteResult.Written
            expect(writer.write(line)).toBe(expected)
            if (expected === WriteResult.Written) {
              model.push(encoded)
              modelBytes += frame
            }
          } else {
            const { lines } = readAll(reader, step.read)
            const expected = model.splice(0, lines.length)
            expect(lines).toEqual(expected)
            expect(lines.length).toBe(Math.min(step.read, expected.length + model.length))
            for (const line of lines) modelBytes -= frameBytes(Buffer.byteLength(line))
          }
        }
        expect(readAll(reader).lines).toEqual(model)
      }),
      { numRuns: 300 },
    )
  })
})
