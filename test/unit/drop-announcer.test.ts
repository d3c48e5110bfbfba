/**
 * The drop announcer (src/pipeline/drop-announcer.ts): writes the drop notice
 * to the store, one at a time, and moves on from a loss only once a notice
 * about it reached the store.
 */
import { describe, expect, it, vi } from 'vitest'
import type { LogRecord, Sink } from '../../sinks/sink.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { Counters } from '../../src/counters/counters.js'
import { SinkCounters } from '../../src/counters/sink-counters.js'
import { DropAnnouncer } from '../../src/pipeline/drop-announcer.js'
import { RecordSeqs } from '../../src/pipeline/record-seqs.js'
import { SinkRunner } from '../../src/pipeline/sink-runner.js'

function setUp() {
  const written: LogRecord[] = []
  const store = { delivers: true, release: undefined as (() => void) | undefined, hold: false }
  const sink: Sink = {
    concurrent: true,
    write(records) {
      written.push(...records)
      const answer = { delivered: store.delivers ? records.length : 0, unavailable: store.delivers ? 0 : records.length }
      if (!store.hold) return answer
      return new Promise((resolve) => (store.release = () => resolve(answer)))
    },
  }
  const storeCounters = new SinkCounters()
  const counters = new Counters()
  const seqs = new RecordSeqs()
  const announcer = new DropAnnouncer(counters, new SinkRunner(sink, { name: 'store', role: 'store' }, storeCounters, () => {}), seqs)
  return { written, store, storeCounters, counters, seqs, announcer }
}

const since = (record: LogRecord | undefined): unknown => (record?.value as { pino_sluice: { since_last_notice: unknown } }).pino_sluice.since_last_notice

describe('DropAnnouncer', () => {
  it('writes nothing while nothing was lost; a notice takes the next seq and is not counted as the store delivering', async () => {
    const { written, storeCounters, counters, seqs, announcer } = setUp()
    await announcer.announce(Deadline.never())
    expect(written).toHaveLength(0)
    counters.drop('overflow', 3)
    seqs.next = 7
    await announcer.announce(Deadline.never())
    expect(written.map((record) => record.seq)).toEqual([7])
    expect(seqs.next).toBe(8)
    expect(since(written[0])).toEqual({ dropped_overflow: 3 })
    expect(storeCounters.snapshot().store).toMatchObject({ delivered: 0, failed: 0 })
  })

  it('a loss is announced again until a notice about it reaches the store, then only what is new', async () => {
    const { written, store, counters, announcer } = setUp()
    counters.drop('overflow', 2)
    store.delivers = false
    await announcer.announce(Deadline.never())
    store.delivers = true
    counters.fail('db_unavailable', 1)
    await announcer.announce(Deadline.never())
    counters.drop('overflow', 1)
    await announcer.announce(Deadline.never())
    expect(written.map(since)).toEqual([{ dropped_overflow: 2 }, { dropped_overflow: 2, failed_db_unavailable: 1 }, { dropped_overflow: 1 }])
  })

  it('one notice at a time: a second announce while one is in flight writes nothing', async () => {
    const { written, store, counters, announcer } = setUp()
    counters.drop('overflow', 1)
    store.hold = true
    const first = announcer.announce(Deadline.never())
    await announcer.announce(Deadline.never())
    await vi.waitFor(() => expect(store.release).toBeDefined())
    store.release?.()
    await first
    expect(written).toHaveLength(1)
  })
})
