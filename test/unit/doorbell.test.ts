/**
 * When the app thread wakes a sleeping worker (issue 25): both ends of the
 * ring in one thread, the doorbell's timer faked, so each case spells out
 * its interleaving. How often the worker actually wakes in a service is the
 * bench's business (bench/service.ts), not a test's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Doorbell } from '../../src/ring/doorbell.js'
import { allocateRing } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'

const DELAY_MS = 1
const WAKE_NOW_BYTES = 4096
const LINE = `${JSON.stringify({ level: 30, time: 1, msg: 'request handled', i: 0 })}\n`

function ring(capacity = 64 * 1024) {
  const memory = allocateRing(capacity)
  const writer = new RingWriter(memory, capacity)
  return { writer, reader: new RingReader(memory), doorbell: new Doorbell(writer, DELAY_MS, WAKE_NOW_BYTES) }
}

function write(writer: RingWriter, doorbell: Doorbell, lines: number): void {
  for (let i = 0; i < lines; i++) {
    expect(writer.write(LINE)).toBe(WriteResult.Written)
    doorbell.afterWrite()
  }
}

function readAll(reader: RingReader): string[] {
  const lines: string[] = []
  reader.read(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, lines, [])
  return lines
}

describe('Doorbell', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('rings once for a burst of writes in one turn while the worker sleeps, after the delay, and the worker then takes them all', async () => {
    const { writer, reader, doorbell } = ring()
    const sleeping = reader.waitForLines()
    write(writer, doorbell, 30)
    expect(writer.activity().doorbells).toBe(0)
    vi.advanceTimersByTime(DELAY_MS)
    expect(writer.activity().doorbells).toBe(1)
    await sleeping
    expect(writer.activity().workerWakes).toBe(1)
    expect(readAll(reader)).toHaveLength(30)
    // Nothing left to ring for: the timer is not armed again by itself.
    vi.advanceTimersByTime(10 * DELAY_MS)
    expect(writer.activity().doorbells).toBe(1)
  })

  it('rings at once when a burst within one turn reaches the threshold (no timer can fire in a tight loop), and only once', async () => {
    const { writer, reader, doorbell } = ring()
    const sleeping = reader.waitForLines()
    const lines = Math.ceil(WAKE_NOW_BYTES / LINE.length) + 1
    write(writer, doorbell, lines)
    expect(writer.activity().doorbells).toBe(1)
    // The bell lowered the idle flag: the rest of the burst costs nothing more.
    write(writer, doorbell, 100)
    vi.advanceTimersByTime(DELAY_MS)
    expect(writer.activity().doorbells).toBe(1)
    await sleeping
    expect(readAll(reader)).toHaveLength(lines + 100)
  })

  it('never rings for a worker that is awake', () => {
    const { writer, doorbell } = ring()
    write(writer, doorbell, 200)
    vi.advanceTimersByTime(DELAY_MS)
    expect(writer.activity().doorbells).toBe(0)
  })

  it('does not ring when the worker took the lines meanwhile (a flush reads the ring without a doorbell)', async () => {
    const { writer, reader, doorbell } = ring()
    const sleeping = reader.waitForLines()
    write(writer, doorbell, 5)
    expect(readAll(reader)).toHaveLength(5)
    vi.advanceTimersByTime(DELAY_MS)
    expect(writer.activity().doorbells).toBe(0)
    writer.requestClose()
    await sleeping
  })

  it('rings once per quiet spell: each time the worker sleeps again, the next write arms the timer again', async () => {
    const { writer, reader, doorbell } = ring()
    for (let spell = 1; spell <= 3; spell++) {
      const sleeping = reader.waitForLines()
      write(writer, doorbell, 3)
      vi.advanceTimersByTime(DELAY_MS)
      await sleeping
      expect(readAll(reader)).toHaveLength(3)
      expect(writer.activity()).toEqual({ doorbells: spell, workerWakes: spell })
    }
  })

  it('lets a close through at once, whatever the doorbell has pending', async () => {
    const { writer, reader, doorbell } = ring()
    const sleeping = reader.waitForLines()
    write(writer, doorbell, 2)
    writer.requestClose()
    await sleeping
    expect(reader.closeRequested()).toBe(true)
    expect(readAll(reader)).toHaveLength(2)
  })

  it('does not keep the process alive while a doorbell is pending', () => {
    vi.useRealTimers()
    const { writer, reader, doorbell } = ring()
    const spy = vi.spyOn(globalThis, 'setTimeout')
    void reader.waitForLines()
    write(writer, doorbell, 1)
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout
    spy.mockRestore()
    expect(timer.hasRef()).toBe(false)
    writer.requestClose()
  })
})
