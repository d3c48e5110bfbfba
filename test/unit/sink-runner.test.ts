/** The SinkRunner as a plain unit: order of batches, deadlines, and the exit deadline moving while a call hangs. */
import { describe, expect, it, vi } from 'vitest'
import type { Sink, SinkResult } from '../../sinks/sink.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { SinkCounters } from '../../src/counters/sink-counters.js'
import { stageVerdict } from '../../src/pipeline/stage-step.js'
import { SinkRunner } from '../../src/pipeline/sink-runner.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'

const record = (seq: number): LogRecord => ({ seq, time: 0, level: 30, bytes: 2, value: { seq } })
const quiet = (): void => {}

function isolatedRunner(sink: Sink, timeoutMs = 10_000, maxQueued = 10): { runner: SinkRunner; counters: SinkCounters } {
  const counters = new SinkCounters()
  return { runner: new SinkRunner(sink, { name: 's', role: 'fanout', timeoutMs, maxQueued, custom: true }, counters, quiet), counters }
}

describe('SinkRunner', () => {
  it('hands batches over in the order their places were reserved, one call at a time', async () => {
    const seen: number[] = []
    let running = 0
    let most = 0
    const { runner } = isolatedRunner({
      async write(records) {
        most = Math.max(most, ++running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        seen.push(...records.map((r) => r.seq))
        running--
      },
    })
    const exit = Deadline.never()
    const first = runner.reserve(exit)
    const second = runner.reserve(exit)
    // The second batch is ready first (its stages were faster): it still goes second.
    const b = second([record(3), record(4)])
    const a = first([record(1), record(2)])
    await Promise.all([a, b])
    expect(seen).toEqual([1, 2, 3, 4])
    expect(most).toBe(1)
  })

  it('a call that hangs past timeoutMs is abandoned and counted; the next one runs', async () => {
    let calls = 0
    const { runner, counters } = isolatedRunner({ write: () => (++calls === 1 ? new Promise(() => {}) : undefined) }, 50)
    const exit = Deadline.never()
    expect(await runner.write([record(1)], exit)).toMatchObject({ delivered: 0, broken: 1 })
    expect(await runner.write([record(2)], exit)).toMatchObject({ delivered: 1 })
    expect(counters.snapshot().s).toMatchObject({ delivered: 1, failed: 1, failed_timeout: 1 })
  })

  it('when the exit deadline moves closer, a hanging call ends there, queued batches count as exit_timeout, and close() returns', async () => {
    let aborted = false
    const { runner, counters } = isolatedRunner(
      {
        write: (_records, { signal }) =>
          new Promise(() => {
            signal.addEventListener('abort', () => (aborted = true))
          }),
        close: () => new Promise(() => {}),
      },
      600_000,
    )
    const exit = Deadline.never()
    const writes = [runner.write([record(1)], exit), runner.write([record(2), record(3)], exit)]
    exit.bringForward(Date.now() + 50)
    await runner.close(exit)
    await Promise.all(writes)
    expect(aborted).toBe(true)
    expect(counters.snapshot().s).toMatchObject({ delivered: 0, failed: 3, failed_timeout: 1, failed_exit_timeout: 2 })
  })

  it('a full queue fails new batches as overflow', async () => {
    const { runner, counters } = isolatedRunner({ write: () => new Promise((resolve) => setTimeout(resolve, 30)) }, 10_000, 1)
    const exit = Deadline.never()
    await Promise.all([runner.write([record(1)], exit), runner.write([record(2)], exit)])
    expect(counters.snapshot().s).toMatchObject({ delivered: 1, failed_overflow: 1 })
  })
})

describe('SinkRunner and a moving exit deadline', () => {
  it('notices on its own that the exit deadline moved closer while a call hangs', async () => {
    const { runner, counters } = isolatedRunner({ write: () => new Promise(() => {}) }, 600_000)
    const exit = Deadline.never()
    const write = runner.write([record(1)], exit)
    // As Pipeline.close does before it gets to flush this sink: only the deadline moves.
    exit.bringForward(Date.now() + 50)
    expect(await write).toMatchObject({ broken: 1 })
    expect(counters.snapshot().s?.failed_timeout).toBe(1)
  })
})

describe('SinkRunner limits (issue 23)', () => {
  it('flush() bounds every batch given so far by timeoutMs: waiting and running ones count as timeout', async () => {
    vi.useFakeTimers()
    try {
      const { runner, counters } = isolatedRunner({ write: () => new Promise(() => {}) }, 1000)
      const exit = Deadline.never()
      for (let i = 0; i < 5; i++) void runner.write([record(i)], exit)
      let flushed = false
      void runner.flush(exit).then(() => (flushed = true))
      // Without the bound: 5 × 1000 ms one after the other.
      await vi.advanceTimersByTimeAsync(1000)
      expect(flushed).toBe(true)
      expect(counters.snapshot().s).toMatchObject({ delivered: 0, failed: 5, failed_timeout: 5 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('maxQueued counts batches waiting, not the one being written nor start()', async () => {
    let release: () => void = () => {}
    const { runner, counters } = isolatedRunner({ start: () => Promise.resolve(), write: () => new Promise<void>((resolve) => (release = resolve)) }, 10_000, 1)
    const exit = Deadline.never()
    void runner.start(exit)
    const first = runner.write([record(1)], exit)
    await new Promise((resolve) => setTimeout(resolve, 10))
    // The first is being written now: one place left for a waiting batch.
    const writes = [first, ...[2, 3].map((i) => runner.write([record(i)], exit))]
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    await new Promise((resolve) => setTimeout(resolve, 10))
    release()
    await Promise.all(writes)
    // One written, one waited, one overflowed.
    expect(counters.snapshot().s).toMatchObject({ delivered: 2, failed_overflow: 1 })
  })
})

describe('SinkRunner with a concurrent sink (the built-ins)', () => {
  it('hands batches over side by side, with the exit deadline live in each context, and passes cutOff on', async () => {
    let running = 0
    let most = 0
    let cut = 0
    const deadlines: number[] = []
    const sink: Sink = {
      concurrent: true,
      async write(_records, context) {
        most = Math.max(most, ++running)
        await new Promise((resolve) => setTimeout(resolve, 20))
        deadlines.push(context.deadline)
        running--
        return undefined
      },
      cutOff: () => void cut++,
    }
    const counters = new SinkCounters()
    const runner = new SinkRunner(sink, { name: 'db', role: 'store' }, counters, quiet)
    const exit = Deadline.never()
    const writes = [runner.write([record(1)], exit), runner.write([record(2)], exit), runner.write([record(3)], exit)]
    exit.bringForward(Date.now() + 60_000)
    await Promise.all(writes)
    expect(most).toBe(3)
    expect(deadlines).toEqual([exit.at, exit.at, exit.at])
    runner.cutOff()
    expect(cut).toBe(1)
    expect(counters.snapshot().db).toMatchObject({ delivered: 3, failed: 0 })
  })
})

describe('SinkRunner: a store that names its unavailable records (SinkResult.unavailableSeqs)', () => {
  const batch = [record(11), record(12), record(13), record(14), record(15)]

  function storeAnswering(answer: unknown, role: 'store' | 'fanout' = 'store') {
    const reports: string[] = []
    const counters = new SinkCounters()
    const runner = new SinkRunner({ concurrent: true, write: () => answer as SinkResult }, { name: 'db', role }, counters, (m) => reports.push(m))
    return { write: () => runner.write(batch, Deadline.never()), reports, counters }
  }

  it('a list that names one record of the batch per unavailable one is passed on, ascending', async () => {
    const { write, reports } = storeAnswering({ delivered: 2, unavailable: 3, unavailableSeqs: [15, 12, 13] })
    expect(await write()).toEqual({ delivered: 2, rejected: 0, unavailable: 3, broken: 0, unavailableSeqs: [12, 13, 15] })
    expect(reports).toEqual([])
  })

  it('with { delivered } alone the rest is unavailable, and the list must name all of it', async () => {
    expect(await storeAnswering({ delivered: 3, unavailableSeqs: [14, 15] }).write()).toMatchObject({ unavailable: 2, unavailableSeqs: [14, 15] })
    expect(await storeAnswering({ delivered: 3, unavailableSeqs: [15] }).write()).not.toHaveProperty('unavailableSeqs')
  })

  it.each([
    ['fewer seqs than unavailable', [12, 13]],
    ['more seqs than unavailable', [12, 13, 14, 15]],
    ['a seq not in the batch', [12, 13, 99]],
    ['a seq twice', [12, 13, 13]],
    ['not whole numbers', [12, 13, 13.5]],
    ['not numbers', ['12', '13', '14']],
    ['not an array', '12,13,14'],
  ])('a list with %s is ignored: the counts stand (counted, never spooled), one stderr line', async (_what, unavailableSeqs) => {
    const { write, reports, counters } = storeAnswering({ delivered: 2, unavailable: 3, unavailableSeqs })
    const tally = await write()
    expect(tally).toEqual({ delivered: 2, rejected: 0, unavailable: 3, broken: 0 })
    expect(counters.snapshot().db).toMatchObject({ delivered: 2, failed: 3, failed_unavailable: 3 })
    expect(reports).toEqual([expect.stringMatching(/^sink db: write answered unavailableSeqs that are not one seq of the batch per unavailable record \(3\)/)])
  })

  it('checks the list against a batch whose records are not in seq order', async () => {
    const counters = new SinkCounters()
    const runner = new SinkRunner({ concurrent: true, write: () => ({ delivered: 1, unavailable: 2, unavailableSeqs: [31, 33] }) }, { name: 'db', role: 'store' }, counters, quiet)
    expect(await runner.write([record(33), record(32), record(31)], Deadline.never())).toMatchObject({ unavailable: 2, unavailableSeqs: [31, 33] })
  })

  it('a list beside counts that do not sum is nonsense as before: the whole batch invalid_result', async () => {
    expect(await storeAnswering({ delivered: 2, unavailable: 2, unavailableSeqs: [12, 13] }).write()).toMatchObject({ broken: 5 })
  })

  it('an empty list with nothing unavailable is fine; only the store of record\'s list is read', async () => {
    const empty = storeAnswering({ delivered: 5, unavailable: 0, unavailableSeqs: [] })
    expect(await empty.write()).toEqual({ delivered: 5, rejected: 0, unavailable: 0, broken: 0 })
    expect(empty.reports).toEqual([])
    const fanout = storeAnswering({ delivered: 2, unavailable: 3, unavailableSeqs: [12, 13, 14] }, 'fanout')
    expect(await fanout.write()).toEqual({ delivered: 2, rejected: 0, unavailable: 3, broken: 0 })
    expect(fanout.reports).toEqual([])
  })
})

describe('stageVerdict: what goes on to the store after a stage', () => {
  const batch = [record(1), record(2), record(3), record(4)]
  const ok = { delivered: 4, rejected: 0, unavailable: 0, broken: 0 }
  const reports: string[] = []
  const report = (message: string): void => void reports.push(message)

  it('everything delivered: the whole batch, whatever the stage did to its own array', () => {
    expect(stageVerdict(batch, batch.slice(0, 2), ok, true, report)).toBeUndefined()
    expect(reports.at(-1)).toMatch(/changed the number of records in its batch/)
  })

  it('records removed and answered rejected are held back, in either mode', () => {
    const own = [batch[0], batch[2]] as LogRecord[]
    for (const failClosed of [true, false]) {
      expect(stageVerdict(batch, own, { delivered: 2, rejected: 2, unavailable: 0, broken: 0 }, failClosed, report)?.keep).toEqual(own)
    }
  })

  it('a failure, or rejected without saying which: fail-closed holds back all, fail-open none', () => {
    const broken = { delivered: 0, rejected: 0, unavailable: 0, broken: 4 }
    expect(stageVerdict(batch, batch, broken, true, report)?.keep).toEqual([])
    expect(stageVerdict(batch, batch, broken, false, report)).toBeUndefined()
    const vague = { delivered: 3, rejected: 1, unavailable: 0, broken: 0 }
    expect(stageVerdict(batch, batch, vague, true, report)?.keep).toEqual([])
    expect(stageVerdict(batch, batch, vague, false, report)).toBeUndefined()
  })
})
