/**
 * The pipeline's intake (src/pipeline/pipeline-intake.ts) as a plain unit: a
 * real channel, a stub batcher and a stub spool. Every line offered is counted
 * received and ends queued, spooled or dropped with its reason.
 */
import { describe, expect, it, vi } from 'vitest'
import type { Batcher } from '../../src/batcher/batcher.js'
import { BoundedChannel } from '../../src/channel/bounded-channel.js'
import { Counters } from '../../src/counters/counters.js'
import type { ChannelOptions } from '../../src/options/resolve-options.js'
import { PipelineIntake } from '../../src/pipeline/pipeline-intake.js'
import { QueueGauges } from '../../src/pipeline/queue-gauges.js'
import { RecordSeqs } from '../../src/pipeline/record-seqs.js'
import type { SpoolRoute } from '../../src/spool/spool-route.js'

const MAX_RECORD_BYTES = 100

function setUp(overflow: ChannelOptions['overflow'], maxRecords = 3) {
  const options: ChannelOptions = { maxRecords, maxBytes: 10_000, maxRecordBytes: MAX_RECORD_BYTES, overflow }
  const counters = new Counters()
  const channel = new BoundedChannel(options)
  const queued = vi.fn()
  const seqs = new RecordSeqs()
  const intake = new PipelineIntake(options, MAX_RECORD_BYTES, counters, channel, { queued } as unknown as Batcher, seqs, new QueueGauges(counters, channel))
  return { counters, channel, queued, seqs, intake }
}

/** A spool that takes lines while `takes` is true, and what it took with the seq it got. */
function stubSpool() {
  const taken: Array<[string, number]> = []
  const route = {
    takes: true,
    diverting: false,
    spill(lines: readonly string[], firstSeq: number): boolean {
      if (!route.takes) return false
      lines.forEach((line, i) => taken.push([line, firstSeq + i]))
      return true
    },
  }
  return { route, taken, asRoute: route as unknown as SpoolRoute }
}

const line = (level: number, i = 0): string => JSON.stringify({ level, i })

describe('PipelineIntake', () => {
  it('drop-newest without a spool: queues what fits, drops the rest as overflow and oversized lines as too_large, tells the batcher the highest level', () => {
    const { counters, channel, queued, intake } = setUp('drop-newest')
    intake.accept([line(30), `{"msg":"${'x'.repeat(MAX_RECORD_BYTES)}"}`, line(50), line(30, 1), line(60)])
    expect(channel.length).toBe(3)
    expect(counters.values).toMatchObject({ received: 5, dropped_too_large: 1, dropped_overflow: 1, queued_records: 3 })
    // The refused level-60 line does not make the batch urgent.
    expect(queued).toHaveBeenCalledWith(50)
    expect(intake.refusesNewLines()).toBe(true)
    expect(intake.room().records).toBe(0)
  })

  it('drop-newest with a spool: what the channel refuses is spooled with the next seqs; what the spool refuses is dropped as overflow', () => {
    const { counters, channel, seqs, intake } = setUp('drop-newest', 1)
    const spool = stubSpool()
    intake.spool = spool.asRoute
    intake.accept([line(30, 0), line(30, 1), line(30, 2)])
    expect(channel.length).toBe(1)
    expect(spool.taken).toEqual([
      [line(30, 1), 1],
      [line(30, 2), 2],
    ])
    expect(seqs.next).toBe(3)
    // With a spool, new lines are never refused at the door.
    expect(intake.refusesNewLines()).toBe(false)
    spool.route.takes = false
    intake.accept([line(30, 3)])
    expect(seqs.next).toBe(3)
    expect(counters.values).toMatchObject({ received: 4, dropped_overflow: 1 })
  })

  it('refuse counts as accept would: too large by UTF-8 size, else overflow', () => {
    const { counters, intake } = setUp('drop-newest')
    intake.refuse([10, MAX_RECORD_BYTES + 1, 20])
    expect(counters.values).toMatchObject({ received: 3, dropped_too_large: 1, dropped_overflow: 2 })
  })

  it('drop-oldest always has room; without a spool, spill says so and counts nothing', () => {
    const { counters, intake } = setUp('drop-oldest', 2)
    expect(intake.room().records).toBe(Number.MAX_SAFE_INTEGER)
    intake.accept([line(30, 0), line(30, 1), line(30, 2)])
    expect(counters.values).toMatchObject({ received: 3, dropped_overflow: 1 })
    expect(intake.spill([line(30)], 'exit_timeout')).toBe(false)
    expect(counters.values.dropped_exit_timeout).toBe(0)
  })

  it('once shut: waiters for room go on, new lines are dropped as closed, and a second shut says it was shut already', async () => {
    const { counters, channel, intake } = setUp('drop-newest')
    const waited = intake.untilRoom()
    expect(intake.shut()).toBe(true)
    await waited
    intake.accept([line(30)])
    expect(channel.length).toBe(0)
    expect(counters.values).toMatchObject({ received: 1, dropped_closed: 1 })
    expect(intake.refusesNewLines()).toBe(false)
    expect(intake.shut()).toBe(false)
  })
})
