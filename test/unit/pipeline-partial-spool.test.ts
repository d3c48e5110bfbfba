/**
 * Issue 24: a batch (or a replayed group) the store of record wrote in part.
 * The pipeline with a real disk spool and replayer, and a store in memory that
 * answers as scripted, naming its unavailable records (SinkResult.unavailableSeqs)
 * or giving only counts. What it names goes to the spool, one frame per run of
 * consecutive seqs, and is replayed under the writer id and seqs it had; every
 * record ends in exactly one place, and at every step
 *
 *   received + recovered == written + dropped + failed + spool_records
 *
 * The Postgres sink's side: its step function in postgres-write-attempts.test.ts,
 * and a real server in test/integration/spool-partial.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { LogRecord, Sink, SinkResult } from '../../sinks/sink.js'
import { replayOrigin } from '../../sinks/shared/write-origin.js'
import { Counters } from '../../src/counters/counters.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import { Pipeline } from '../../src/pipeline/pipeline.js'
import { SinkRunner } from '../../src/pipeline/sink-runner.js'
import { StageStep } from '../../src/pipeline/stage-step.js'
import { storeFailReasons, storeOutcome } from '../../src/pipeline/store-of-record.js'
import { lineReader } from '../../src/records/read-line.js'
import { Replayer, replayStages } from '../../src/spool/replayer.js'
import { SpoolRoute } from '../../src/spool/spool-route.js'
import { Spool } from '../../src/spool/spool.js'

const base = mkdtempSync(join(tmpdir(), 'sluice-unit-partial-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let dirs = 0

const LIVE_WRITER = 'live-writer'
const options = resolveOptions({
  postgres: { url: 'postgres://u@127.0.0.1/db', connections: 1 },
  batch: { maxRecords: 10, intervalMs: 5 },
  exit: { budgetMs: 2000, report: false },
})

/** How the store answers one call: which of its seqs it could not write, and whether it says which. */
type Answer = { unavailable: (seq: number) => boolean; list: 'listed' | 'counts-only' | 'wrong' }

/** A store of record in memory: each written record once per copy, keyed `writer:seq`; answers follow `script`, then all written. */
function memoryStore(script: Answer[]) {
  const table = new Map<string, number>()
  const calls: number[][] = []
  const sink: Sink = {
    concurrent: true,
    write(records: readonly LogRecord[]): SinkResult {
      const seqs = records.map((record) => record.seq)
      calls.push(seqs)
      const writer = replayOrigin(records)?.writerId ?? LIVE_WRITER
      const answer = script.shift()
      const missed = answer ? seqs.filter(answer.unavailable) : []
      for (const seq of seqs) if (!missed.includes(seq)) table.set(`${writer}:${seq}`, (table.get(`${writer}:${seq}`) ?? 0) + 1)
      const result: SinkResult = { delivered: seqs.length - missed.length, unavailable: missed.length }
      if (answer?.list === 'listed') result.unavailableSeqs = missed
      if (answer?.list === 'wrong') result.unavailableSeqs = missed.map((seq) => seq + 1000)
      return result
    },
  }
  return { sink, table, calls }
}

const newSpool = (): Spool => Spool.open({ dir: join(base, `spool-${++dirs}`), maxBytes: 1024 * 1024 }, () => {})
const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, i }))

/** A stage that holds back the records whose seq `holds` picks (answered rejected: failed_stage). */
function screen(holds: (seq: number) => boolean) {
  const sink: Sink = {
    concurrent: true,
    write(records: readonly LogRecord[]): SinkResult {
      const own = records as LogRecord[]
      const before = own.length
      for (let i = own.length - 1; i >= 0; i--) if (holds((own[i] as LogRecord).seq)) own.splice(i, 1)
      return { delivered: own.length, rejected: before - own.length }
    },
  }
  return sink
}

function setUp(script: Answer[], spool = newSpool(), stageSinks: Sink[] = []) {
  const counters = new Counters()
  const reports: string[] = []
  const store = memoryStore(script)
  const runner = new SinkRunner(store.sink, { name: 'memory', role: 'store' }, counters.sinks, (m) => reports.push(m))
  const stages = stageSinks.map((sink, i) => new StageStep(new SinkRunner(sink, { name: `stage${i}`, role: 'stage' }, counters.sinks, (m) => reports.push(m))))
  const pipeline = new Pipeline(options, counters, runner, stages)
  const route = new SpoolRoute(spool, counters, LIVE_WRITER)
  pipeline.useSpool(route)
  pipeline.start()
  const replayer = new Replayer(
    route,
    { write: (records, deadline) => runner.write(records, deadline).then(storeOutcome), failReasons: storeFailReasons('postgres') },
    replayStages(stages, counters, (m) => reports.push(m)),
    counters,
    { maxRecords: 100, inFlight: 1 },
    lineReader('postgres', stages.length, false),
  )
  open.push(async () => {
    await replayer.stop(Date.now() + 1000)
    await pipeline.close(1000)
    spool.close()
  })
  return { counters, pipeline, replayer, spool, reports, ...store }
}
const open: Array<() => Promise<void>> = []
beforeEach(() => {
  // The pipeline's own stderr lines (a stage holding records back): not this test's output.
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(async () => {
  for (const close of open.splice(0)) await close()
  vi.restoreAllMocks()
})

/** The invariant of docs/spool.md, from the counters. */
function balance(counters: Counters): { in: number; out: number; values: Record<string, number> } {
  const values = counters.snapshot() as unknown as Record<string, number>
  const sum = (prefix: string): number => Object.entries(values).reduce((n, [name, v]) => (name.startsWith(prefix) ? n + v : n), 0)
  return {
    in: (values.received ?? 0) + (values.recovered ?? 0),
    out: (values.written ?? 0) + sum('dropped_') + sum('failed_') + (values.spool_records ?? 0),
    values,
  }
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const once = (writer: string, seqs: number[]): [string, number][] => seqs.map((seq) => [`${writer}:${seq}`, 1])
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('a live batch the store wrote in part', () => {
  it('names two runs unavailable: each spooled as its own frame, replayed under the same writer and seqs, every record written once', async () => {
    const { counters, pipeline, replayer, table, calls } = setUp([{ unavailable: (seq) => [4, 5, 8, 9, 10].includes(seq), list: 'listed' }])
    pipeline.accept(lines(10))
    await pipeline.flush()

    let b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 5, spooled: 5, spool_records: 5 })
    expect(b.values.failed_db_unavailable ?? 0).toBe(0)
    expect(b.in).toBe(b.out)

    replayer.start()
    await until(() => counters.values.spool_records === 0)
    // One replay per frame: 4-5 and 8-10 are not consecutive, so never one transaction (joinsGroup).
    expect(calls.slice(1)).toEqual([
      [4, 5],
      [8, 9, 10],
    ])
    expect([...table].sort()).toEqual(once(LIVE_WRITER, range(1, 10)).sort())
    b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 10, replayed: 5, spool_records: 0 })
    expect(b.in).toBe(b.out)
  })

  it('a store that gives only counts keeps the behaviour without a list: the rest fails as db_unavailable, nothing spooled', async () => {
    const { counters, pipeline } = setUp([{ unavailable: (seq) => seq > 6, list: 'counts-only' }])
    pipeline.accept(lines(10))
    await pipeline.flush()
    const b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 6, failed_db_unavailable: 4, spool_records: 0 })
    expect(b.values.spooled ?? 0).toBe(0)
    expect(b.in).toBe(b.out)
  })

  it('a list that does not match its count is ignored: counted failed once, never spooled, one stderr line', async () => {
    const { counters, pipeline, reports } = setUp([{ unavailable: (seq) => seq > 6, list: 'wrong' }])
    pipeline.accept(lines(10))
    await pipeline.flush()
    const b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 6, failed_db_unavailable: 4, spool_records: 0 })
    expect(b.in).toBe(b.out)
    expect(reports).toEqual([expect.stringMatching(/unavailableSeqs that are not one seq of the batch per unavailable record \(4\)/)])
  })

  it('a batch the store could take none of is still spooled whole, one frame, and the store known down', async () => {
    const { counters, pipeline, replayer, calls } = setUp([{ unavailable: () => true, list: 'listed' }])
    pipeline.accept(lines(10))
    await pipeline.flush()
    expect(counters.values).toMatchObject({ received: 10, written: 0, spool_records: 10 })
    expect(pipeline.divertsToSpool()).toBe(true)
    replayer.start()
    await until(() => counters.values.spool_records === 0)
    expect(calls.slice(1)).toEqual([range(1, 10)])
    const b = balance(counters)
    expect(b.values.written).toBe(10)
    expect(b.in).toBe(b.out)
  })
})

describe('a live batch a stage held records back from', () => {
  it('what the store names is spooled by seq all the same (its lines are found by seq); the held-back record stays failed_stage', async () => {
    const { counters, pipeline, replayer, table, calls } = setUp([{ unavailable: (seq) => seq > 5, list: 'listed' }], newSpool(), [screen((seq) => seq === 2)])
    pipeline.accept(lines(10))
    await pipeline.flush()
    let b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 4, failed_stage: 1, spool_records: 5 })
    expect(b.in).toBe(b.out)
    replayer.start()
    await until(() => counters.values.spool_records === 0)
    expect(calls.slice(1)).toEqual([range(6, 10)])
    expect([...table].sort()).toEqual(once(LIVE_WRITER, [1, 3, 4, 5, 6, 7, 8, 9, 10]).sort())
    b = balance(counters)
    expect(b.values).toMatchObject({ written: 9, failed_stage: 1, spool_records: 0 })
    expect(b.in).toBe(b.out)
  })

  it('none of it taken: the records around the held-back one are spooled as two frames, and the store is known down', async () => {
    const { counters, pipeline, replayer, calls } = setUp([{ unavailable: () => true, list: 'listed' }], newSpool(), [screen((seq) => seq === 4)])
    pipeline.accept(lines(10))
    await pipeline.flush()
    let b = balance(counters)
    expect(b.values).toMatchObject({ received: 10, written: 0, failed_stage: 1, spool_records: 9 })
    expect(b.values.failed_db_unavailable ?? 0).toBe(0)
    expect(b.in).toBe(b.out)
    expect(pipeline.divertsToSpool()).toBe(true)
    replayer.start()
    await until(() => counters.values.spool_records === 0)
    expect(calls.slice(1)).toEqual([range(1, 3), range(5, 10)])
    b = balance(counters)
    expect(b.values).toMatchObject({ written: 9, failed_stage: 1 })
    expect(b.in).toBe(b.out)
  })
})

describe('a replayed group the store wrote in part', () => {
  it("an earlier process's frame: what the store names goes back to the spool under that writer, the frame is settled, the rest is replayed once", async () => {
    const dir = join(base, `spool-${++dirs}`)
    const earlier = Spool.open({ dir, maxBytes: 1024 * 1024 }, () => {})
    expect(earlier.append('earlier-writer', 1001, lines(6))).toBe('spooled')
    earlier.close()

    const spool = Spool.open({ dir, maxBytes: 1024 * 1024 }, () => {})
    const { counters, replayer, table, calls } = setUp([{ unavailable: (seq) => [1002, 1003, 1005].includes(seq), list: 'listed' }], spool)
    expect(counters.values).toMatchObject({ recovered: 6, spool_records: 6 })
    replayer.start()
    await until(() => counters.values.spool_records === 0)

    expect(calls).toEqual([range(1001, 1006), [1002, 1003], [1005]])
    expect([...table].sort()).toEqual(once('earlier-writer', range(1001, 1006)).sort())
    const b = balance(counters)
    expect(b.values).toMatchObject({ recovered: 6, written: 6, spool_records: 0 })
    expect(b.values.failed_db_unavailable ?? 0).toBe(0)
    expect(b.in).toBe(b.out)
  })

  it('a store that gives only counts on replay: the rest fails as before, the frame is settled', async () => {
    const dir = join(base, `spool-${++dirs}`)
    const earlier = Spool.open({ dir, maxBytes: 1024 * 1024 }, () => {})
    earlier.append('earlier-writer', 1, lines(6))
    earlier.close()
    const { counters, replayer, calls } = setUp([{ unavailable: (seq) => seq > 4, list: 'counts-only' }], Spool.open({ dir, maxBytes: 1024 * 1024 }, () => {}))
    replayer.start()
    await until(() => counters.values.spool_records === 0)
    expect(calls).toEqual([range(1, 6)])
    const b = balance(counters)
    expect(b.values).toMatchObject({ recovered: 6, written: 4, failed_db_unavailable: 2 })
    expect(b.in).toBe(b.out)
  })
})
