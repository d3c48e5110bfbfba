/**
 * The pipeline through the real sink-building path (buildSinks), with no
 * server and no dist/: the built-in file store, a custom stage that holds bad
 * records back, and a fan-out sink that refuses every other batch in half.
 * Every line offered ends as exactly one of written / dropped / failed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Counters } from '../../src/counters/counters.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import { buildSinks } from '../../src/pipeline/build-sinks.js'
import { Pipeline } from '../../src/pipeline/pipeline.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/sinks/${name}`, import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sluice-unit-pipeline-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function totals(counters: Counters): { received: number; written: number; dropped: number; failed: number; values: Record<string, number> } {
  const values = counters.snapshot() as unknown as Record<string, number>
  const sum = (prefix: string): number => Object.entries(values).reduce((n, [name, v]) => (name.startsWith(prefix) ? n + v : n), 0)
  return { received: values.received ?? 0, written: values.written ?? 0, dropped: sum('dropped_'), failed: sum('failed_'), values }
}

/** Lines of the file store that are app records (not the pipeline's drop notices). */
function storedRecords(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((row) => !('pino_sluice' in row))
}

describe('Pipeline with the sinks buildSinks makes', () => {
  it('file store + custom stage + fan-out: exact accounting, the store and each sink counted on its own', async () => {
    const path = join(dir, 'store.ndjson')
    const options = resolveOptions(
      {
        file: { path },
        batch: { maxRecords: 10, intervalMs: 5 },
        exit: { budgetMs: 2000, report: false },
        sinks: [
          { target: fixture('contract-sink.mjs'), role: 'stage', name: 'screen', options: { mode: 'reject-bad' } },
          { target: fixture('scripted-sink.mjs'), role: 'fanout', name: 'mirror', options: { script: ['ok', 'half'] } },
        ],
      },
      {},
    )
    const counters = new Counters()
    const { store, stages, fanout } = await buildSinks(options, { counters, writerId: 'unit' })
    expect(store.name).toBe('file')
    expect(stages.map((stage) => stage.name)).toEqual(['screen'])
    expect(fanout?.size).toBe(1)
    const pipeline = new Pipeline(options, counters, store, stages, fanout)
    pipeline.start()

    const lines: string[] = []
    for (let i = 0; i < 50; i++) lines.push(JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, i, ...(i % 10 === 3 ? { bad: true } : {}) }))
    lines.push('{not json', '[1,')
    pipeline.accept(lines)
    await pipeline.flush()
    await pipeline.close()

    const t = totals(counters)
    expect(t.received).toBe(52)
    expect(t.received).toBe(t.written + t.dropped + t.failed)
    expect(t.values).toMatchObject({ written: 45, dropped_invalid_json: 2, failed_stage: 5 })
    // The store holds exactly what was counted written, none of what the stage held back.
    const rows = storedRecords(path)
    expect(rows).toHaveLength(45)
    expect(rows.some((row) => row.bad)).toBe(false)
    // The fan-out sink's counts are its own: they never change the store's.
    const mirror = counters.sinks.snapshot().mirror
    expect(mirror).toBeDefined()
    expect((mirror?.delivered ?? 0) + (mirror?.failed ?? 0)).toBe(45)
    expect(mirror?.failed).toBeGreaterThan(0)
    expect(counters.sinks.snapshot().file).toMatchObject({ delivered: 45, failed: 0 })
  })

  it('a custom store module: its failures count as store_*, never db_*', async () => {
    const options = resolveOptions(
      {
        batch: { maxRecords: 5, intervalMs: 5 },
        exit: { budgetMs: 2000, report: false },
        sinks: [{ target: fixture('scripted-sink.mjs'), role: 'store', name: 'archive', options: { script: ['ok', 'throw', 'half'] } }],
      },
      {},
    )
    const counters = new Counters()
    const { store, stages, fanout } = await buildSinks(options, { counters, writerId: 'unit' })
    const pipeline = new Pipeline(options, counters, store, stages, fanout)
    pipeline.start()
    pipeline.accept(Array.from({ length: 15 }, (_, i) => JSON.stringify({ level: 30, i })))
    await pipeline.flush()
    await pipeline.close()

    const t = totals(counters)
    expect(t.received).toBe(15)
    expect(t.received).toBe(t.written + t.dropped + t.failed)
    // Three batches of 5: one written, one thrown (unavailable), one half refused.
    expect(t.values).toMatchObject({ written: 5 + 2, failed_store_unavailable: 5, failed_store_rejected: 3, failed_db_unavailable: 0, failed_db_rejected: 0 })
  })
})
