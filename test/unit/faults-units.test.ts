/**
 * The smaller findings of the fault review, tested as plain units (no server):
 * the refuse path tells a multi-byte line over the limit apart as too large,
 * and the periodic stats row never queues behind one that hangs.
 */
import { describe, expect, it, vi } from 'vitest'
import type { Sink } from '../../sinks/sink.js'
import { SinkCounters } from '../../src/counters/sink-counters.js'
import { SinkRunner } from '../../src/pipeline/sink-runner.js'
import type { Sql } from '../../sinks/postgres/connect.js'
import { TableMaintenance } from '../../sinks/postgres/table-maintenance.js'
import { tableNames } from '../../sinks/postgres/table-names.js'
import { Counters } from '../../src/counters/counters.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import { Pipeline } from '../../src/pipeline/pipeline.js'
import { SluiceStream } from '../../src/transport/sluice-stream.js'

/** A database that never answers: every write stays in flight. */
const hanging: Sink = { concurrent: true, write: () => new Promise(() => {}) }
const hangingSink = new SinkRunner(hanging, { name: 'hanging', role: 'store' }, new SinkCounters(), () => {})

describe('the refuse path (channel full, drop-newest)', () => {
  it('counts a multi-byte line above maxRecordBytes as too_large, not overflow', () => {
    const options = resolveOptions({ postgres: { url: 'postgres://u@127.0.0.1/db', connections: 1 }, channel: { maxRecords: 4, maxRecordBytes: 1000 }, batch: { maxRecords: 1 } })
    const counters = new Counters()
    const pipeline = new Pipeline(options, counters, hangingSink)
    const stream = new SluiceStream(pipeline, counters, 1000, async () => {})
    // Two of these go in flight as batches of one (connections + 1) and stay there...
    stream.write('{"i":0}\n{"i":1}\n{"i":2}\n{"i":3}\n')
    // ...and these fill the channel.
    stream.write('{"i":4}\n{"i":5}\n')
    expect(pipeline.channel.length).toBe(4)
    expect(pipeline.refusesNewLines()).toBe(true)
    // 600 UTF-16 units, 1200 UTF-8 bytes: under the limit by length, over it by size.
    const wide = `{"msg":"${'é'.repeat(600)}"}`
    stream.write(`${wide}\n{"small":1}\n${'x'.repeat(1001)}\n`)
    expect(counters.values).toMatchObject({ received: 9, dropped_too_large: 2, dropped_overflow: 1 })
  })
})

describe('the periodic stats row', () => {
  it('writes one at a time: while one hangs, the next intervals are skipped, not queued', async () => {
    let statsWrites = 0
    // Tagged-template calls are queries: the stats upsert never answers, everything else returns no rows.
    const sql = ((first: unknown) => {
      if (Array.isArray(first) && 'raw' in first) {
        if (first.join('?').includes('final, counters')) {
          statsWrites++
          return new Promise(() => {})
        }
        return Promise.resolve([])
      }
      return { identifier: first }
    }) as unknown as Sql
    const options = resolveOptions({ postgres: { url: 'postgres://u@127.0.0.1/db', statsIntervalMs: 20, partition: false } }).postgres
    if (!options) throw new Error('postgres options expected')
    const maintenance = new TableMaintenance(sql, tableNames('public', 'logs'), options, 'writer', { onProblem: () => {}, readCounters: () => ({ received: 1 }) })
    vi.useFakeTimers()
    try {
      await maintenance.afterMigrate()
      // Fifteen intervals pass while the first stats row hangs.
      await vi.advanceTimersByTimeAsync(300)
      expect(statsWrites).toBe(1)
      let closed = false
      void maintenance.close(100).then(() => (closed = true))
      // The final row waits at most the limit it was given.
      await vi.advanceTimersByTimeAsync(99)
      expect(closed).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      expect(closed).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})
