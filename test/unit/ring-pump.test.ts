/**
 * The RingPump (src/transport/ring-pump.ts) between a real ring and a stub
 * pipeline, in one thread: the ring is a real RingWriter/RingReader pair on a
 * SharedArrayBuffer, the pipeline a channel of a set capacity whose batcher
 * the test plays by hand (`take()`). No worker, no database; the exit budget
 * runs on fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Counters } from '../../src/counters/counters.js'
import type { ResolvedOptions } from '../../src/options/resolve-options.js'
import type { Pipeline } from '../../src/pipeline/pipeline.js'
import { allocateRing, FRAME_HEADER_BYTES, frameBytes } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'
import type { Spool } from '../../src/spool/spool.js'
import { RingPump } from '../../src/transport/ring-pump.js'
import type { RunningPipeline } from '../../src/transport/start-pipeline.js'

const MiB = 1024 * 1024

type PumpFacing = Pick<Pipeline, 'room' | 'accept' | 'untilRoom' | 'drainQueued' | 'flush' | 'stopRetryingAt' | 'divertsToSpool' | 'spillRaw'>

/** A channel of `capacity` lines; `take()` is the batcher taking what is queued. */
class StubPipeline implements PumpFacing {
  readonly accepted: string[] = []
  readonly spilled: string[] = []
  queued = 0
  flushes = 0
  retriesEnd = Number.POSITIVE_INFINITY
  diverting = false
  /** The batcher takes lines as soon as the pump waits for room. */
  takesAtOnce = false
  private waiters: Array<() => void> = []

  constructor(public capacity: number) {}

  /** What the pump sees of the channel: the lines queued and not yet taken. */
  get channel(): { length: number; bytes: number } {
    return { length: this.queued, bytes: 0 }
  }

  room(): { records: number; bytes: number } {
    return { records: this.capacity - this.queued, bytes: Number.MAX_SAFE_INTEGER }
  }

  accept(lines: readonly string[]): void {
    this.accepted.push(...lines)
    this.queued += lines.length
  }

  take(): void {
    this.queued = 0
    for (const resolve of this.waiters.splice(0)) resolve()
  }

  untilRoom(): Promise<void> {
    const room = new Promise<void>((resolve) => this.waiters.push(resolve))
    if (this.takesAtOnce) queueMicrotask(() => this.take())
    return room
  }

  drainQueued(): Promise<void> {
    return this.queued === 0 ? Promise.resolve() : this.untilRoom()
  }

  async flush(): Promise<void> {
    this.flushes++
  }

  stopRetryingAt(at: number): void {
    this.retriesEnd = Math.min(this.retriesEnd, at)
  }

  divertsToSpool(): boolean {
    return this.diverting
  }

  /** Decodes the raw frames back into lines, as the spool would store them. */
  spillRaw(count: number, parts: readonly Buffer[]): boolean {
    const raw = Buffer.concat(parts)
    for (let at = 0, i = 0; i < count; i++) {
      const length = raw.readUInt32LE(at)
      this.spilled.push(raw.toString('utf8', at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length))
      at += frameBytes(length)
    }
    return true
  }
}

/**
 * `batchRecords` is batch.maxRecords, what the pump keeps in the channel before it leaves lines in the ring;
 * the ring must be several MiB for it to leave any there (channel-working-set.ts), so the 1 KiB default never does.
 */
function setUp({ capacity = 1000, ringBytes = 1024, budgetMs = 2000, spool = false, batchRecords = 5000 } = {}) {
  const memory = allocateRing(ringBytes)
  const writer = new RingWriter(memory, ringBytes)
  const reader = new RingReader(memory)
  const pipeline = new StubPipeline(capacity)
  const counters = new Counters()
  const close = vi.fn(async (_budgetMs?: number) => {})
  const options = { exit: { budgetMs }, batch: { maxRecords: batchRecords, maxBytes: 8 * MiB } } as ResolvedOptions
  const running = { options, counters, pipeline: pipeline as unknown as Pipeline, spool: spool ? ({} as Spool) : undefined, close }
  const pump = new RingPump(reader, running satisfies RunningPipeline)
  const write = (...lines: string[]) => {
    for (const line of lines) expect(writer.write(`${line}\n`)).toBe(WriteResult.Written)
    writer.wake()
  }
  return { writer, reader, pipeline, counters, close, pump, write }
}

/** Lets the pump take a few turns of the event loop (it yields with setImmediate between moves). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

afterEach(() => {
  vi.useRealTimers()
})

describe('RingPump: moving lines', () => {
  it('moves lines in order, only as many as the channel has room for; the rest wait in the ring', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 3 })
    write('a', 'b', 'c', 'd', 'e')
    const running = pump.run()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c'])
    expect(reader.isEmpty()).toBe(false)
    pipeline.take()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e'])
    writer.requestClose()
    await running
  })

  it('with the channel full, the ring fills and the app is refused (Full); every line written still arrives, in order', async () => {
    const { writer, pipeline, pump } = setUp({ capacity: 0, ringBytes: 64 })
    const running = pump.run()
    const written: string[] = []
    for (let i = 0; writer.write(`line ${i}\n`) === WriteResult.Written; i++) written.push(`line ${i}`)
    writer.wake()
    await turns()
    expect(written.length).toBeGreaterThan(0)
    expect(pipeline.accepted).toEqual([])
    // The channel gets room: the batcher takes every line the pump gives it from now on.
    pipeline.capacity = 1000
    pipeline.take()
    await turns()
    expect(pipeline.accepted).toEqual(written)
    expect(writer.write('after\n')).toBe(WriteResult.Written)
    writer.requestClose()
    await running
  })

  it('sleeps on the doorbell while the ring is empty, and wakes when the app rings it', async () => {
    const { writer, pipeline, pump, write } = setUp()
    const running = pump.run()
    await turns()
    expect(writer.workerIdle()).toBe(true)
    write('woken')
    await turns()
    expect(pipeline.accepted).toEqual(['woken'])
    writer.requestClose()
    await running
  })

  it('while the store is known down and a spool is on, lines go to the spool raw, not through the channel', async () => {
    const { writer, pipeline, pump, write } = setUp({ spool: true })
    pipeline.diverting = true
    write('{"a":1}', '日本語', '')
    const running = pump.run()
    await turns()
    expect(pipeline.spilled).toEqual(['{"a":1}\n', '日本語\n', '\n'])
    expect(pipeline.accepted).toEqual([])
    pipeline.diverting = false
    writer.requestClose()
    await running
  })
})

describe('RingPump: lines wait in the ring while the channel holds a full batch', () => {
  /** Lines of ~1 KiB: 4200 of them fill more than 4 MiB of ring. */
  const big = (n: number): string[] => Array.from({ length: n }, (_, i) => `${i}`.padEnd(1000, 'x'))

  it('moves lines until the channel holds batch.maxRecords, leaves the rest in the ring, and moves them as the batcher takes', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 10, ringBytes: 8 * MiB, batchRecords: 3 })
    write('a', 'b', 'c', 'd', 'e', 'f', 'g')
    const running = pump.run()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c'])
    expect(reader.isEmpty()).toBe(false)
    pipeline.take()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    pipeline.take()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    expect(reader.isEmpty()).toBe(true)
    writer.requestClose()
    await running
  })

  it('at a low rate, every line is moved (less than a batch): the batcher, which sees only the channel, has them for its timer', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 10, ringBytes: 8 * MiB, batchRecords: 3 })
    const running = pump.run()
    write('a', 'b')
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b'])
    expect(reader.isEmpty()).toBe(true)
    writer.requestClose()
    await running
  })

  it('once the ring is more than half full, fills the channel as far as it has room, until the ring is back at half (the app drops no more)', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 100_000, ringBytes: 8 * MiB, batchRecords: 3 })
    const running = pump.run()
    const lines = big(4200)
    write(...lines.slice(0, 10))
    await turns()
    expect(pipeline.accepted).toEqual(lines.slice(0, 3))
    // The batcher takes nothing (batches in flight take long) while the app writes past half the ring:
    // the pump, which sleeps on neither, finds the pressure at its next look.
    write(...lines.slice(10))
    expect(reader.unreadBytes()).toBeGreaterThan(4 * MiB)
    await vi.waitFor(() => expect(reader.unreadBytes()).toBeLessThanOrEqual(4 * MiB), { timeout: 1000, interval: 5 })
    expect(pipeline.accepted.length).toBeGreaterThan(3)
    expect(pipeline.accepted).toEqual(lines.slice(0, pipeline.accepted.length))
    expect(reader.isEmpty()).toBe(false)
    pipeline.takesAtOnce = true
    writer.requestClose()
    await running
  })

  it('with the batcher stalled, the app is refused only once ring and channel are both full, as before', async () => {
    const { writer, reader, pipeline, pump } = setUp({ capacity: 3000, ringBytes: 8 * MiB, batchRecords: 3 })
    const running = pump.run()
    const line = 'x'.repeat(1000)
    // The app writes until the ring refuses a line even after the pump had time to look at it.
    for (let refused = false; !refused; ) {
      while (writer.write(`${line}\n`) === WriteResult.Written);
      writer.wake()
      await new Promise((resolve) => setTimeout(resolve, 20))
      refused = writer.write(`${line}\n`) !== WriteResult.Written
    }
    expect(pipeline.accepted).toHaveLength(3000)
    expect(reader.unreadBytes()).toBeGreaterThan(8 * MiB - frameBytes(1001))
    pipeline.takesAtOnce = true
    pipeline.take()
    writer.requestClose()
    await running
  })

  it('with a spool, fills the channel from an eighth of the ring, below the spill mark (a quarter): lines the channel has room for are not spilled', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 100_000, ringBytes: 32 * MiB, batchRecords: 3, spool: true })
    const lines = big(4200)
    write(...lines)
    expect(reader.unreadBytes()).toBeGreaterThan(4 * MiB)
    expect(reader.unreadBytes()).toBeLessThan(8 * MiB)
    const running = pump.run()
    await vi.waitFor(() => expect(reader.unreadBytes()).toBeLessThanOrEqual(4 * MiB), { timeout: 1000, interval: 5 })
    expect(pipeline.spilled).toEqual([])
    expect(pipeline.accepted).toEqual(lines.slice(0, pipeline.accepted.length))
    pipeline.takesAtOnce = true
    writer.requestClose()
    await running
  })

  it('with a spool and a full channel, spills what waits at once, as before (nothing is held back in the ring then)', async () => {
    const { writer, pipeline, pump, write } = setUp({ capacity: 3, ringBytes: 32 * MiB, batchRecords: 3, spool: true })
    write('a', 'b', 'c', 'd', 'e')
    const running = pump.run()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c'])
    expect(pipeline.spilled).toEqual(['d\n', 'e\n'])
    writer.requestClose()
    await running
  })

  it('flush moves past the full batch, as far as the channel has room, until the position is read', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 10, ringBytes: 8 * MiB, batchRecords: 3 })
    write('a', 'b', 'c', 'd', 'e', 'f')
    const running = pump.run()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c'])
    let flushed = false
    void pump.flush(writer.position).then(() => (flushed = true))
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(reader.isEmpty()).toBe(true)
    pipeline.take()
    await turns()
    expect(flushed).toBe(true)
    expect(pipeline.flushes).toBe(1)
    writer.requestClose()
    await running
  })

  it('close moves everything the channel has room for, past the full batch, and drops nothing', async () => {
    const { writer, pipeline, counters, close, pump, write } = setUp({ capacity: 10, ringBytes: 8 * MiB, batchRecords: 3 })
    write('a', 'b', 'c', 'd', 'e', 'f')
    const running = pump.run()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c'])
    // The batcher never takes: only the close, which the held pump notices at its next look, moves the rest.
    writer.requestClose()
    await running
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(counters.values.dropped_exit_timeout).toBe(0)
    expect(close).toHaveBeenCalledTimes(1)
  })
})

describe('RingPump.flush', () => {
  it('resolves once every line written before the position is taken by the batcher, not waiting for lines written after', async () => {
    const { writer, reader, pipeline, pump, write } = setUp({ capacity: 2 })
    write('a', 'b', 'c')
    let flushed = false
    void pump.flush(writer.position).then(() => (flushed = true))
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b'])
    write('d', 'e')
    pipeline.take()
    await turns()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd'])
    expect(flushed).toBe(false)
    pipeline.take()
    await turns()
    expect(flushed).toBe(true)
    expect(pipeline.flushes).toBe(1)
    // 'e' came after the flush was asked: it waits in the ring for its turn.
    expect(reader.isEmpty()).toBe(false)
  })
})

describe('RingPump: close within the exit budget', () => {
  it('with a batcher that keeps up, drains the ring whole: nothing dropped, the pipeline gets the budget less the report reserve', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { writer, pipeline, counters, close, pump, write } = setUp({ capacity: 2, budgetMs: 2000 })
    pipeline.takesAtOnce = true
    write('a', 'b', 'c', 'd', 'e')
    writer.requestClose()
    await pump.run()
    expect(pipeline.accepted).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(counters.values.dropped_exit_timeout).toBe(0)
    // No time passed (the clock is fake): the whole budget less the 250 ms kept for the exit report.
    expect(close).toHaveBeenCalledTimes(1)
    expect(close).toHaveBeenCalledWith(1750)
  })

  it('stops retries at the budget less the finish reserve; what the ring still holds then is counted exit_timeout, once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { writer, reader, pipeline, counters, close, pump, write } = setUp({ capacity: 2, budgetMs: 2000 })
    write('a', 'b', 'c', 'd', 'e')
    writer.requestClose()
    const start = Date.now()
    let done = false
    const running = pump.run().then(() => (done = true))
    await turns()
    // The batcher never takes anything (a database that does not answer).
    expect(pipeline.retriesEnd).toBe(start + 2000 - 500)
    expect(pipeline.accepted).toEqual(['a', 'b'])
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1499)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await running
    expect(counters.values.dropped_exit_timeout).toBe(3)
    expect(reader.isEmpty()).toBe(true)
    expect(pipeline.accepted.length + counters.values.dropped_exit_timeout).toBe(5)
    expect(close).toHaveBeenCalledWith(2000 - 1500 - 250)
    // A second close is the same close.
    await pump.close()
    expect(close).toHaveBeenCalledTimes(1)
  })

  it('waits for a line the app sent aside (too big for the ring) before closing', async () => {
    const { writer, pipeline, counters, close, pump } = setUp()
    writer.sentAside()
    writer.requestClose()
    let done = false
    const running = pump.run().then(() => (done = true))
    await turns()
    expect(done).toBe(false)
    expect(close).not.toHaveBeenCalled()
    pump.takeAside('a big line')
    await running
    expect(pipeline.accepted).toEqual(['a big line'])
    expect(counters.values.dropped_exit_timeout).toBe(0)
  })

  it('counts a line sent aside that never arrives as exit_timeout, and does not take it when it comes after', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { writer, pipeline, counters, pump } = setUp({ budgetMs: 2000 })
    writer.sentAside()
    writer.requestClose()
    const running = pump.run()
    await vi.advanceTimersByTimeAsync(1500)
    await running
    expect(counters.values.dropped_exit_timeout).toBe(1)
    pump.takeAside('too late')
    expect(pipeline.accepted).toEqual([])
  })
})
