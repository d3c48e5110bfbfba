/**
 * The RingPump with the pipeline's real intake, channel and batcher (a sink
 * the test answers by hand, no database): lines the pump leaves in the ring
 * while the channel holds a full batch still reach a batch within the
 * batcher's interval, and an urgent line (at or above flushLevel) still goes
 * out at once, without waiting for the timer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Batcher } from '../../src/batcher/batcher.js'
import { BoundedChannel } from '../../src/channel/bounded-channel.js'
import { Counters } from '../../src/counters/counters.js'
import type { ChannelOptions, ResolvedOptions } from '../../src/options/resolve-options.js'
import type { Pipeline } from '../../src/pipeline/pipeline.js'
import { PipelineIntake } from '../../src/pipeline/pipeline-intake.js'
import { QueueGauges } from '../../src/pipeline/queue-gauges.js'
import { RecordSeqs } from '../../src/pipeline/record-seqs.js'
import { allocateRing } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter, WriteResult } from '../../src/ring/ring-writer.js'
import { RingPump } from '../../src/transport/ring-pump.js'
import type { RunningPipeline } from '../../src/transport/start-pipeline.js'

const MiB = 1024 * 1024
/** Large enough for the pump to leave lines in it (channel-working-set.ts). */
const RING_BYTES = 8 * MiB
const INTERVAL_MS = 1000

/** A pump on a real ring, feeding a real intake and batcher of `batchRecords` per batch and one batch in flight. */
function setUp(batchRecords: number) {
  const memory = allocateRing(RING_BYTES)
  const writer = new RingWriter(memory, MiB)
  const reader = new RingReader(memory)
  const counters = new Counters()
  const channelOptions: ChannelOptions = { maxRecords: 100, maxBytes: MiB, maxRecordBytes: MiB, overflow: 'drop-newest' }
  const batch = { maxRecords: batchRecords, maxBytes: MiB, intervalMs: INTERVAL_MS, flushLevel: 50 }
  const channel = new BoundedChannel(channelOptions)
  const batches: string[][] = []
  const answers: Array<() => void> = []
  const intake: PipelineIntake = new PipelineIntake(
    channelOptions,
    MiB,
    counters,
    channel,
    new Batcher(
      channel,
      batch,
      (lines) => {
        // As BatchWriter.writeBatch does: a batch taken frees room in the channel.
        intake.roomFreed()
        batches.push(lines)
        return new Promise<void>((resolve) => answers.push(resolve))
      },
      1,
    ),
    new RecordSeqs(),
    new QueueGauges(counters, channel),
  )
  const pipeline = {
    channel,
    room: () => intake.room(),
    accept: (lines: readonly string[], sizes?: readonly number[], received?: boolean) => intake.accept(lines, sizes, received),
    untilRoom: () => intake.untilRoom(),
    divertsToSpool: () => false,
    stopRetryingAt: () => {},
  }
  const options = { exit: { budgetMs: 2000 }, batch } as unknown as ResolvedOptions
  const running = { options, counters, pipeline: pipeline as unknown as Pipeline, spool: undefined, close: async () => {} }
  const pump = new RingPump(reader, running satisfies RunningPipeline)
  const write = (...lines: string[]) => {
    for (const line of lines) expect(writer.write(`${line}\n`)).toBe(WriteResult.Written)
    writer.wake()
  }
  /** Answers the oldest batch in flight (the database committed it). */
  const answer = () => answers.shift()?.()
  const finish = async (running: Promise<void>) => {
    writer.requestClose()
    while (answers.length > 0) answer()
    await running
  }
  return { reader, pump, write, batches, answer, finish }
}

const line = (level: number, i: number): string => JSON.stringify({ level, i })

async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

afterEach(() => {
  vi.useRealTimers()
})

describe('RingPump with the batcher: lines left in the ring', () => {
  it('a line held in the ring behind a due batch still reaches a batch when the batcher’s interval passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { reader, pump, write, batches, answer, finish } = setUp(3)
    const lines = Array.from({ length: 7 }, (_, i) => line(30, i))
    write(...lines)
    const running = pump.run()
    await turns()
    // Batch 1 is in flight and the channel holds batch 2: line 7 waits in the ring.
    expect(batches).toEqual([lines.slice(0, 3)])
    expect(reader.isEmpty()).toBe(false)
    answer()
    await turns()
    expect(batches).toEqual([lines.slice(0, 3), lines.slice(3, 6)])
    expect(reader.isEmpty()).toBe(true)
    answer()
    await turns()
    // One line is not a due batch: it goes with the timer, as any line at a low rate.
    expect(batches).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(INTERVAL_MS)
    expect(batches).toEqual([lines.slice(0, 3), lines.slice(3, 6), lines.slice(6)])
    await finish(running)
  })

  it('an error line held in the ring goes out as soon as the batches ahead of it are done, without waiting for the timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { pump, write, batches, answer, finish } = setUp(3)
    const lines = [...Array.from({ length: 6 }, (_, i) => line(30, i)), line(50, 6)]
    write(...lines)
    const running = pump.run()
    await turns()
    expect(batches).toEqual([lines.slice(0, 3)])
    answer()
    await turns()
    answer()
    await turns()
    expect(batches).toEqual([lines.slice(0, 3), lines.slice(3, 6), lines.slice(6)])
    await finish(running)
  })
})
