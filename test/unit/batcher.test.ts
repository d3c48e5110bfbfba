import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Batcher, DUE_RECORDS } from '../../src/batcher/batcher.js'
import { BoundedChannel } from '../../src/channel/bounded-channel.js'

const options = { maxRecords: 3, maxBytes: 1_000_000, intervalMs: 1000, flushLevel: 50 }

function setup(overrides: Partial<typeof options> = {}, channelRecords = 100, maxInFlight = 1) {
  const channel = new BoundedChannel({ maxRecords: channelRecords, maxBytes: 1_000_000, overflow: 'drop-newest' })
  const batches: string[][] = []
  const batcher = new Batcher(
    channel,
    { ...options, ...overrides },
    async (lines) => {
      // Batches may finish in another order than they started.
      for (let i = 0; i < lines.length % 3; i++) await Promise.resolve()
      batches.push(lines)
    },
    maxInFlight,
  )
  const offer = (line: string, level = 30): void => {
    channel.push(line, line.length)
    batcher.queued(level)
  }
  return { channel, batches, batcher, offer }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('Batcher', () => {
  it('writes as soon as maxRecords lines are queued', async () => {
    const { batches, offer } = setup()
    offer('a')
    offer('b')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([])
    offer('c')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([['a', 'b', 'c']])
  })

  it('writes a partial batch after intervalMs', async () => {
    const { batches, offer } = setup()
    offer('a')
    await vi.advanceTimersByTimeAsync(999)
    expect(batches).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(batches).toEqual([['a']])
  })

  it('writes at once when a line at flushLevel arrives', async () => {
    const { batches, offer } = setup()
    offer('a')
    offer('boom', 50)
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([['a', 'boom']])
  })

  it('splits by maxBytes; a remainder below the thresholds waits for more lines or the interval', async () => {
    const { batches, offer } = setup({ maxRecords: 100, maxBytes: 5 })
    offer('aaa')
    offer('bbb')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([['aaa']])
    await vi.advanceTimersByTimeAsync(1000)
    expect(batches).toEqual([['aaa'], ['bbb']])
  })

  it('a channel smaller than a batch is due when full (records), with an idle sink and no timer', async () => {
    const { batches, offer } = setup({ maxRecords: 10 }, 4)
    for (const l of 'abc') offer(l)
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([])
    offer('d')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([['a', 'b', 'c', 'd']])
  })

  it('a channel of fewer bytes than a batch is due when half full by bytes', async () => {
    const channel = new BoundedChannel({ maxRecords: 100, maxBytes: 20, overflow: 'drop-newest' })
    const batches: string[][] = []
    const batcher = new Batcher(channel, { ...options, maxRecords: 100, maxBytes: 1_000_000 }, async (lines) => void batches.push(lines))
    const offer = (line: string): void => {
      expect(channel.push(line, line.length)).toBe(0)
      batcher.queued(30)
    }
    offer('aaaa')
    offer('bbbb')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([])
    offer('cc')
    await vi.advanceTimersByTimeAsync(0)
    expect(batches).toEqual([['aaaa', 'bbbb', 'cc']])
  })

  it('a burst larger than a small channel is written as it comes, not dropped (batch > channel)', async () => {
    const { batches, channel, batcher } = setup({ maxRecords: 10_000 }, 8)
    let dropped = 0
    for (let i = 0; i < 100; i++) {
      dropped += channel.push(String(i), 1)
      batcher.queued(30)
      // The sink resolves in a microtask: a line arriving later finds the channel emptied.
      await vi.advanceTimersByTimeAsync(0)
    }
    await vi.advanceTimersByTimeAsync(options.intervalMs)
    expect(dropped).toBe(0)
    expect(batches.flat()).toHaveLength(100)
  })

  it('batches follow the backlog: due at DUE_RECORDS, then as large as maxRecords allows while lines wait', async () => {
    const maxRecords = DUE_RECORDS * 5
    const channel = new BoundedChannel({ maxRecords: 100_000, maxBytes: 100_000_000, overflow: 'drop-newest' })
    const sizes: number[] = []
    const releases: (() => void)[] = []
    const batcher = new Batcher(channel, { ...options, maxRecords }, async (lines) => {
      sizes.push(lines.length)
      await new Promise<void>((resolve) => releases.push(resolve))
    })
    const offer = (count: number): void => {
      for (let i = 0; i < count; i++) channel.push('x', 1)
      batcher.queued(30)
    }
    offer(DUE_RECORDS - 1)
    await vi.advanceTimersByTimeAsync(0)
    expect(sizes).toEqual([])
    offer(1)
    await vi.advanceTimersByTimeAsync(0)
    // Small and prompt at a low rate: the first batch goes at DUE_RECORDS.
    expect(sizes).toEqual([DUE_RECORDS])
    // While it is in the database, a backlog builds up: the next batch takes all of it, up to maxRecords.
    offer(DUE_RECORDS * 3)
    releases.shift()?.()
    await vi.advanceTimersByTimeAsync(0)
    expect(sizes).toEqual([DUE_RECORDS, DUE_RECORDS * 3])
    offer(maxRecords + 10)
    releases.shift()?.()
    await vi.advanceTimersByTimeAsync(0)
    expect(sizes).toEqual([DUE_RECORDS, DUE_RECORDS * 3, maxRecords])
    releases.shift()?.()
    await vi.advanceTimersByTimeAsync(options.intervalMs)
    releases.shift()?.()
    await vi.advanceTimersByTimeAsync(0)
    expect(sizes).toEqual([DUE_RECORDS, DUE_RECORDS * 3, maxRecords, 10])
  })

  it('drain writes everything queued, in batches, and resolves when empty', async () => {
    const { batches, offer, batcher, channel } = setup()
    for (const l of 'abcdefg') offer(l)
    const drained = batcher.drain()
    await vi.advanceTimersByTimeAsync(0)
    await drained
    expect(batches.flat()).toEqual([...'abcdefg'])
    expect(batches.every((b) => b.length <= 3)).toBe(true)
    expect(channel.length).toBe(0)
  })

  it.each([1, 2])('keeps at most %i batches in flight; lines queued meanwhile wait in the channel', async (limit) => {
    const channel = new BoundedChannel({ maxRecords: 100, maxBytes: 1_000_000, overflow: 'drop-newest' })
    const releases: (() => void)[] = []
    let inFlight = 0
    let maxInFlight = 0
    const written: string[] = []
    const batcher = new Batcher(
      channel,
      options,
      async (lines) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise<void>((resolve) => releases.push(resolve))
        written.push(...lines)
        inFlight--
      },
      limit,
    )
    for (const l of 'abcdefghi') {
      channel.push(l, 1)
      batcher.queued(30)
    }
    await vi.advanceTimersByTimeAsync(0)
    expect(channel.length).toBe(9 - 3 * limit)
    while (written.length < 9) {
      releases.shift()?.()
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(written).toEqual([...'abcdefghi'])
    expect(maxInFlight).toBe(limit)
  })
})

describe('Batcher with random schedules (property)', () => {
  type Step = { kind: 'offer'; level: number } | { kind: 'wait'; ms: number } | { kind: 'drain' }
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('offer' as const), level: fc.constantFrom(30, 30, 30, 40, 50) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const) }) },
  )

  it('delivers every accepted line exactly once, in order, in batches within bounds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.array(step, { maxLength: 80 }), async (maxRecords, capacity, maxInFlight, steps) => {
        const { channel, batches, batcher } = setup({ maxRecords }, capacity, maxInFlight)
        let next = 0
        const accepted: string[] = []
        let dropped = 0
        for (const s of steps) {
          if (s.kind === 'offer') {
            const l = String(next++)
            if (channel.push(l, 1) === 0) accepted.push(l)
            else dropped++
            batcher.queued(s.level)
          } else if (s.kind === 'wait') {
            await vi.advanceTimersByTimeAsync(s.ms)
          } else {
            const done = batcher.drain()
            await vi.advanceTimersByTimeAsync(0)
            await done
            expect(channel.length).toBe(0)
          }
          expect(channel.length).toBeLessThanOrEqual(capacity)
        }
        await vi.advanceTimersByTimeAsync(options.intervalMs)
        expect(batches.flat().sort((a, b) => Number(a) - Number(b))).toEqual(accepted)
        expect(batches.every((b) => b.length >= 1 && b.length <= maxRecords)).toBe(true)
        expect(accepted.length + dropped).toBe(next)
        batcher.stop()
      }),
      { numRuns: 150 },
    )
  })
})
