/**
 * The pipeline's close (src/pipeline/pipeline-close.ts) against a fake store
 * of record on fake timers: the exit budget's phases end where exit-budget.ts
 * says, and every line offered ends as exactly one of written / dropped /
 * failed whatever the store does (hangs until cut off, never answers, answers).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { LogRecord, Sink, SinkCallContext } from '../../sinks/sink.js'
import { Counters } from '../../src/counters/counters.js'
import { SinkCounters } from '../../src/counters/sink-counters.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import { exitBudget } from '../../src/pipeline/exit-budget.js'
import { Pipeline } from '../../src/pipeline/pipeline.js'
import { SinkRunner } from '../../src/pipeline/sink-runner.js'

const BUDGET_MS = 2000
const START = 1_000_000

/** Two batches of two in flight at most (connections + 1), the rest queued; nothing connects (the store is the fake). */
const options = resolveOptions({
  postgres: { url: 'postgres://u@127.0.0.1/db', connections: 1 },
  batch: { maxRecords: 2, intervalMs: 5 },
  exit: { budgetMs: BUDGET_MS, report: false },
})

type StoreMode = 'hangs-until-cut-off' | 'never-answers' | 'answers'

/** A store like Postgres (concurrent, has cutOff) that records what the pipeline asked of it and when. */
function fakeStore(mode: StoreMode) {
  const calls: string[] = []
  const notices: LogRecord[] = []
  const hanging: Array<(result: { delivered: number; unavailable: number }) => void> = []
  let closeDeadline: number | undefined
  const sink: Sink = {
    concurrent: true,
    write(records) {
      if ('pino_sluice' in (records[0]?.value ?? {})) {
        calls.push('notice')
        notices.push(...records)
        return undefined
      }
      calls.push(`write ${records.length}`)
      if (mode === 'answers') return undefined
      return new Promise((resolve) => {
        if (mode === 'hangs-until-cut-off') hanging.push(() => resolve({ delivered: 0, unavailable: records.length }))
      })
    },
    cutOff() {
      calls.push(`cutOff at ${Date.now() - START}`)
      for (const settle of hanging.splice(0)) settle({ delivered: 0, unavailable: 0 })
    },
    close(context: SinkCallContext) {
      calls.push(`close at ${Date.now() - START}`)
      closeDeadline = context.deadline
      return mode === 'answers' ? undefined : new Promise(() => {})
    },
  }
  const runner = new SinkRunner(sink, { name: 'fake', role: 'store' }, new SinkCounters(), () => {})
  return { runner, calls, notices, closeDeadline: () => closeDeadline }
}

function setUp(mode: StoreMode) {
  const counters = new Counters()
  const store = fakeStore(mode)
  const pipeline = new Pipeline(options, counters, store.runner)
  pipeline.start()
  return { counters, pipeline, ...store }
}

/** Closes the pipeline and lets fake time run until it resolves; returns when it did (ms after the start). */
async function closeAndWait(pipeline: Pipeline): Promise<number> {
  let closedAt: number | undefined
  void pipeline.close(BUDGET_MS).then(() => (closedAt = Date.now() - START))
  for (let ms = 0; closedAt === undefined && ms < BUDGET_MS * 2; ms += 25) await vi.advanceTimersByTimeAsync(25)
  expect(closedAt).toBeDefined()
  return closedAt as number
}

const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ level: 30, i }))

let stderr: string[]
beforeEach(() => {
  vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  stderr = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk))
    return true
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('Pipeline.close: the exit budget, phase by phase', () => {
  const phases = exitBudget(BUDGET_MS, START)

  it('a store that hangs: at the drain end the queued lines are dropped exit_timeout, the store is cut off, and what it had fails as db_unavailable', async () => {
    const { counters, pipeline, calls, closeDeadline } = setUp('hangs-until-cut-off')
    pipeline.accept(lines(10))
    await vi.advanceTimersByTimeAsync(0)
    expect(calls).toEqual(['write 2', 'write 2'])

    const closedAt = await closeAndWait(pipeline)
    expect(calls.slice(2, 3)).toEqual([`cutOff at ${phases.drainEnd - START}`])
    expect(counters.values).toMatchObject({ received: 10, written: 0, dropped_exit_timeout: 6, failed_db_unavailable: 4, queued_records: 0 })
    // The store's close gets the rest of the budget, and close() resolves at its end, not later.
    expect(closeDeadline()).toBe(phases.storeCloseEnd)
    expect(closedAt).toBeLessThanOrEqual(BUDGET_MS)
    expect(stderr.join('')).toContain('store fake: close timed out (exit.budgetMs ran out)')
    // No drop notice: the last batch was not written, so the store is not known to answer.
    expect(calls).not.toContain('notice')
  })

  it('a store that never answers, not even to cutOff: its batches are counted at the cut-off end, once', async () => {
    const { counters, pipeline, calls } = setUp('never-answers')
    pipeline.accept(lines(5))
    await vi.advanceTimersByTimeAsync(0)

    await closeAndWait(pipeline)
    expect(calls.filter((call) => call.startsWith('cutOff'))).toEqual([`cutOff at ${phases.drainEnd - START}`, `cutOff at ${BUDGET_MS}`])
    expect(counters.values).toMatchObject({ received: 5, written: 0, dropped_exit_timeout: 1, failed_db_unavailable: 4 })
  })

  it('a store that answers: everything is written, a last drop notice goes before the store closes, and lines after close are dropped as closed', async () => {
    const { counters, pipeline, calls, notices } = setUp('answers')
    pipeline.accept(lines(4))
    await pipeline.flush()
    // Dropped after the last batch: only the notice on close can tell the table.
    pipeline.accept(['x'.repeat(options.channel.maxRecordBytes + 1)])

    await closeAndWait(pipeline)
    // The store is cut off last whatever happened before: nothing of it outlives the budget.
    expect(calls.slice(-3)).toEqual(['notice', 'close at 0', 'cutOff at 0'])
    expect(notices.at(-1)?.value).toMatchObject({ pino_sluice: { since_last_notice: { dropped_too_large: 1 } } })
    pipeline.accept(lines(2))
    expect(counters.values).toMatchObject({ received: 7, written: 4, dropped_too_large: 1, dropped_closed: 2 })
    // A second close does nothing.
    await pipeline.close(BUDGET_MS)
    expect(calls.filter((call) => call.startsWith('close'))).toHaveLength(1)
  })
})
