import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BoundedChannel, type OverflowPolicy } from '../../src/channel/bounded-channel.js'

const line = (n: number, size = 10): string => `${n}`.padEnd(size, '.')

describe('BoundedChannel', () => {
  it('keeps lines in order and reports sizes', () => {
    const channel = new BoundedChannel({ maxRecords: 4, maxBytes: 1000, overflow: 'drop-newest' })
    for (let i = 0; i < 3; i++) expect(channel.push(line(i), 10)).toBe(0)
    expect(channel.length).toBe(3)
    expect(channel.bytes).toBe(30)
    expect(channel.take(10, 1000).lines).toEqual([line(0), line(1), line(2)])
    expect(channel.length).toBe(0)
    expect(channel.bytes).toBe(0)
  })

  it('drop-newest refuses lines once the record limit is reached', () => {
    const channel = new BoundedChannel({ maxRecords: 2, maxBytes: 1000, overflow: 'drop-newest' })
    expect([channel.push('a', 1), channel.push('b', 1), channel.push('c', 1)]).toEqual([0, 0, 1])
    expect(channel.take(10, 1000).lines).toEqual(['a', 'b'])
  })

  it('drop-newest refuses lines once the byte limit would be passed', () => {
    const channel = new BoundedChannel({ maxRecords: 100, maxBytes: 25, overflow: 'drop-newest' })
    expect(channel.push(line(1), 10)).toBe(0)
    expect(channel.push(line(2), 10)).toBe(0)
    expect(channel.push(line(3), 10)).toBe(1)
    expect(channel.push('x', 5)).toBe(0)
    expect(channel.bytes).toBe(25)
  })

  it('drop-oldest evicts as many old lines as the new one needs', () => {
    const channel = new BoundedChannel({ maxRecords: 100, maxBytes: 30, overflow: 'drop-oldest' })
    for (let i = 0; i < 3; i++) channel.push(line(i), 10)
    expect(channel.push(line(9, 25), 25)).toBe(3)
    expect(channel.take(10, 1000).lines).toEqual([line(9, 25)])
  })

  it('refuses a line bigger than the whole channel under both policies', () => {
    for (const overflow of ['drop-newest', 'drop-oldest'] as const) {
      const channel = new BoundedChannel({ maxRecords: 10, maxBytes: 20, overflow })
      channel.push('a', 5)
      expect(channel.push('big', 21)).toBe(1)
      expect(channel.take(10, 100).lines).toEqual(['a'])
    }
  })

  it('take stops before the byte budget but always takes at least one line', () => {
    const channel = new BoundedChannel({ maxRecords: 10, maxBytes: 1000, overflow: 'drop-newest' })
    channel.push('a', 60)
    channel.push('b', 60)
    expect(channel.take(10, 50)).toEqual({ lines: ['a'], sizes: [60] })
    expect(channel.take(10, 100)).toEqual({ lines: ['b'], sizes: [60] })
  })
})

type Op = { kind: 'push'; size: number } | { kind: 'take'; records: number; bytes: number }

/** The reference: a plain array with the same rules, no ring buffer. */
class ModelChannel {
  items: { id: number; size: number }[] = []
  constructor(readonly maxRecords: number, readonly maxBytes: number, readonly overflow: OverflowPolicy) {}
  bytes(): number {
    return this.items.reduce((sum, item) => sum + item.size, 0)
  }
  push(id: number, size: number): number {
    if (size > this.maxBytes) return 1
    const full = (): boolean => this.items.length >= this.maxRecords || this.bytes() + size > this.maxBytes
    if (full() && this.overflow === 'drop-newest') return 1
    let dropped = 0
    while (full()) {
      this.items.shift()
      dropped++
    }
    this.items.push({ id, size })
    return dropped
  }
  take(records: number, bytes: number): number[] {
    const out: number[] = []
    let sum = 0
    while (this.items.length > 0 && out.length < records) {
      const next = this.items[0] as { id: number; size: number }
      if (out.length > 0 && sum + next.size > bytes) break
      sum += next.size
      out.push((this.items.shift() as { id: number }).id)
    }
    return out
  }
}

describe('BoundedChannel against a reference model (property)', () => {
  const op = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), size: fc.integer({ min: 1, max: 120 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), records: fc.integer({ min: 1, max: 20 }), bytes: fc.integer({ min: 1, max: 400 }) }) },
  )

  it('matches the model, never passes its bounds, and accounts for every line', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 50, max: 500 }),
        fc.constantFrom<OverflowPolicy>('drop-newest', 'drop-oldest'),
        fc.array(op as fc.Arbitrary<Op>, { maxLength: 300 }),
        (maxRecords, maxBytes, overflow, ops) => {
          const channel = new BoundedChannel({ maxRecords, maxBytes, overflow })
          const model = new ModelChannel(maxRecords, maxBytes, overflow)
          let pushed = 0
          let dropped = 0
          let taken = 0
          for (const step of ops) {
            if (step.kind === 'push') {
              const id = pushed++
              const got = channel.push(String(id), step.size)
              expect(got).toBe(model.push(id, step.size))
              dropped += got
            } else {
              const got = channel.take(step.records, step.bytes).lines.map(Number)
              expect(got).toEqual(model.take(step.records, step.bytes))
              taken += got.length
            }
            expect(channel.length).toBeLessThanOrEqual(maxRecords)
            expect(channel.bytes).toBeLessThanOrEqual(maxBytes)
            expect(channel.bytes).toBe(model.bytes())
            expect(pushed).toBe(taken + dropped + channel.length)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
