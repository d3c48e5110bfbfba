/**
 * FanOut (src/pipeline/fan-out.ts) over SinkRunners of in-memory sinks, run
 * isolated as custom sinks are: batch order at every sink, a hung sink bounded
 * by its own timeoutMs (issue 23, defect 2), and per-sink counts that add up
 * to the records handed over. Time is fake wherever a deadline matters.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import type { Sink } from '../../sinks/sink.js'
import { SinkCounters } from '../../src/counters/sink-counters.js'
import { FanOut } from '../../src/pipeline/fan-out.js'
import { SinkRunner, type RunnerSettings } from '../../src/pipeline/sink-runner.js'

const record = (seq: number): LogRecord => ({ seq, time: 0, level: 30, bytes: 2, value: { seq } })
const batch = (...seqs: number[]): LogRecord[] => seqs.map(record)

/** An in-memory fan-out sink: remembers every record it was given, in the order it got them. */
function memorySink(answer: (records: readonly LogRecord[]) => ReturnType<Sink['write']> = () => undefined): Sink & { seen: number[] } {
  const seen: number[] = []
  return {
    seen,
    write(records) {
      seen.push(...records.map((r) => r.seq))
      return answer(records)
    },
  }
}

/** The pipeline's exit deadline while it runs; `moveIn` is what its close does to it. */
const runningExit = (): Deadline => Deadline.never()
const moveIn = (exit: Deadline, at: number): void => exit.bringForward(at)
/** A custom fan-out sink's runner settings: isolated, one call at a time. */
const fanOutSettings = (name: string, timeoutMs: number, maxQueued: number): RunnerSettings => ({ name, role: 'fanout', timeoutMs, maxQueued, custom: true })

/** A sink whose every write hangs forever (a stalled HTTP endpoint). */
const hungSink = (): Sink => ({ write: () => new Promise(() => {}) })

function fanOutOf(sinks: Record<string, Sink>, { timeoutMs = 5000, maxQueued = 100 } = {}) {
  const counters = new SinkCounters()
  const reports: string[] = []
  const runners = Object.entries(sinks).map(([name, sink]) => new SinkRunner(sink, fanOutSettings(name, timeoutMs, maxQueued), counters, (m) => void reports.push(m)))
  return { fanOut: new FanOut(runners), counters, reports }
}

/** Per sink: delivered + failed, which must equal the records handed to the fan-out. */
function settled(counters: SinkCounters, name: string): number {
  const stats = counters.snapshot()[name]
  return (stats?.delivered ?? 0) + (stats?.failed ?? 0)
}

afterEach(() => {
  vi.useRealTimers()
})

describe('FanOut', () => {
  it('gives every sink every batch in the order the batches were formed, even when their stages finish out of order', async () => {
    const a = memorySink()
    const b = memorySink()
    const { fanOut, counters } = fanOutOf({ a, b })
    const exit = runningExit()
    expect(fanOut.size).toBe(2)
    const hands = [fanOut.reserve(exit), fanOut.reserve(exit), fanOut.reserve(exit)]
    hands[2]?.(batch(5, 6))
    hands[0]?.(batch(1, 2))
    hands[1]?.(batch(3, 4))
    await fanOut.flush(exit)
    expect(a.seen).toEqual([1, 2, 3, 4, 5, 6])
    expect(b.seen).toEqual([1, 2, 3, 4, 5, 6])
    expect(counters.snapshot()).toMatchObject({ a: { delivered: 6, failed: 0 }, b: { delivered: 6, failed: 0 } })
  })

  it('hands a batch over without waiting for any sink', async () => {
    vi.useFakeTimers()
    const slow = memorySink(() => new Promise<void>((resolve) => setTimeout(resolve, 1000)))
    const { fanOut, counters } = fanOutOf({ slow })
    const exit = runningExit()
    expect(fanOut.reserve(exit)(batch(1))).toBeUndefined()
    await vi.advanceTimersByTimeAsync(999)
    expect(settled(counters, 'slow')).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(counters.snapshot().slow).toMatchObject({ delivered: 1 })
  })

  it("a hung sink costs only its own records: flush() ends at that sink's timeoutMs with every batch counted", async () => {
    vi.useFakeTimers()
    const healthy = memorySink()
    const { fanOut, counters, reports } = fanOutOf({ healthy, hung: hungSink() }, { timeoutMs: 3000 })
    const exit = runningExit()
    for (let i = 0; i < 3; i++) fanOut.reserve(exit)(batch(2 * i, 2 * i + 1))
    let flushed = false
    void fanOut.flush(exit).then(() => (flushed = true))
    await vi.advanceTimersByTimeAsync(2999)
    expect(flushed).toBe(false)
    expect(counters.snapshot().healthy).toMatchObject({ delivered: 6, failed: 0 })
    // One timeoutMs in all, not one per batch waiting behind the hung call.
    await vi.advanceTimersByTimeAsync(1)
    expect(flushed).toBe(true)
    expect(counters.snapshot().hung).toMatchObject({ delivered: 0, failed: 6, failed_timeout: 6 })
    expect(reports.some((m) => m.startsWith('sink hung: '))).toBe(true)
    expect(reports.some((m) => m.startsWith('sink healthy: '))).toBe(false)
  })

  it('counts what each sink answered, per sink, summing to the records handed over', async () => {
    const partly = memorySink((records) => ({ delivered: records.length - 1, rejected: 1 }))
    const unreachable = memorySink((records) => ({ delivered: 0, unavailable: records.length, reason: 'HTTP 503' }))
    const nonsense = memorySink(() => ({ delivered: 99 }))
    const throwing = memorySink(() => {
      throw new Error('boom')
    })
    const { fanOut, counters } = fanOutOf({ partly, unreachable, nonsense, throwing })
    const exit = runningExit()
    fanOut.reserve(exit)(batch(1, 2, 3))
    fanOut.reserve(exit)(batch(4, 5))
    fanOut.reserve(exit)([])
    await fanOut.flush(exit)
    const stats = counters.snapshot()
    expect(stats.partly).toMatchObject({ delivered: 3, failed: 2, failed_rejected: 2 })
    expect(stats.unreachable).toMatchObject({ delivered: 0, failed: 5, failed_unavailable: 5 })
    expect(stats.nonsense).toMatchObject({ delivered: 0, failed: 5, failed_invalid_result: 5 })
    expect(stats.throwing).toMatchObject({ delivered: 0, failed: 5, failed_error: 5 })
    for (const name of ['partly', 'unreachable', 'nonsense', 'throwing']) expect(settled(counters, name)).toBe(5)
  })

  it('close() settles every batch by the exit deadline: the hung call as timeout, the batches behind it as exit_timeout', async () => {
    vi.useFakeTimers()
    const healthy = memorySink()
    const { fanOut, counters } = fanOutOf({ healthy, hung: hungSink() }, { timeoutMs: 600_000 })
    const exit = runningExit()
    fanOut.start(exit)
    for (let i = 0; i < 3; i++) fanOut.reserve(exit)(batch(i))
    let closed = false
    // The pipeline's close moves the exit deadline in: 1 s left.
    moveIn(exit, Date.now() + 1000)
    void fanOut.close(exit).then(() => (closed = true))
    await vi.advanceTimersByTimeAsync(1000)
    expect(closed).toBe(true)
    expect(counters.snapshot().healthy).toMatchObject({ delivered: 3 })
    expect(counters.snapshot().hung).toMatchObject({ delivered: 0, failed: 3, failed_timeout: 1, failed_exit_timeout: 2 })
  })
})
