/**
 * One name per counter, everywhere (issue 16 item 11): stats.read(), the
 * stats file and /stats (same snapshot), /metrics (by its naming rule), the
 * exit line and the docs list exactly the same counters.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { COUNTER_NAMES, statsFromCounters } from '../../src/index.js'
import { GAUGES } from '../../src/counters/counter-names.js'
import { Counters } from '../../src/counters/counters.js'
import { prometheusText } from '../../src/stats/prometheus-text.js'
import { takeSnapshot } from '../../src/stats/stats-snapshot.js'
import { exitReport, SIDE_LOSSES } from '../../src/transport/exit-report.js'
import { databaseUrl, expectBalanced, sqlClient, startTransport, uniqueTable } from '../support/transport.js'

const APP = fileURLToPath(new URL('../fixtures/usage-invalid-app.mjs', import.meta.url))

const TOTALS = ['dropped', 'failed']
const EVERY_NAME = [...COUNTER_NAMES, ...TOTALS]

/** Counters where every value differs, so a swapped name shows. */
function filledCounters(): Counters {
  const counters = new Counters()
  COUNTER_NAMES.forEach((name, i) => counters.set(name, 1000 + i))
  return counters
}

describe('counter names', () => {
  it('stats.read() has exactly the counter names plus dropped and failed, all snake_case', () => {
    const stats = statsFromCounters(filledCounters().snapshot())
    // Plus `sinks`: the per-sink counts (docs/sinks.md), one object keyed by sink name.
    expect(Object.keys(stats)).toEqual([...EVERY_NAME, 'sinks'])
    for (const name of Object.keys(stats)) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/)
    expect(stats.dropped).toBe(COUNTER_NAMES.filter((n) => n.startsWith('dropped_')).reduce((sum, n) => sum + stats[n], 0))
    // The old camelCase names still read, hidden from JSON and Object.keys.
    expect(stats.queuedRecords).toBe(stats.queued_records)
    expect(stats.droppedBy.overflow).toBe(stats.dropped_overflow)
    expect(JSON.stringify(stats)).not.toContain('queuedRecords')
  })

  it('the stats file and /stats hold the same counters under the same names as stats.read()', () => {
    const counters = filledCounters()
    const snapshot = takeSnapshot({ intervalMs: 1000, startedMs: 0, http: null, read: () => counters.snapshot() })
    const { sinks, ...read } = statsFromCounters(counters.snapshot())
    expect(snapshot.counters).toEqual(read)
    expect(snapshot.sinks ?? {}).toEqual(sinks)
  })

  it('/metrics has one series per counter by the documented rule', () => {
    const counters = filledCounters()
    const text = prometheusText(takeSnapshot({ intervalMs: 1000, startedMs: 0, http: null, read: () => counters.snapshot() }))
    const series = text.split('\n').filter((l) => l.startsWith('pino_sluice_') && !l.startsWith('pino_sluice_writer_info'))
    const expected = COUNTER_NAMES.map((name) => {
      const value = counters.values[name]
      const labelled = /^(dropped|failed)_(.+)$/.exec(name)
      if (labelled) return `pino_sluice_${labelled[1]}_total{reason="${labelled[2]}"} ${value}`
      return `pino_sluice_${name}${GAUGES.has(name) ? '' : '_total'} ${value}`
    })
    expect(series.sort()).toEqual(expected.sort())
    for (const name of COUNTER_NAMES) if (!/^(dropped|failed)_/.test(name)) expect(text, `a HELP text of its own for ${name}`).not.toContain(`pino-sluice counter ${name}.`)
  })

  it('the exit line uses the same names and lists every loss', () => {
    const line = exitReport(filledCounters()) as string
    const names = [...line.matchAll(/([a-z_]+)=\d+/g)].map((m) => m[1] as string)
    for (const name of names) expect(EVERY_NAME).toContain(name)
    const losses = COUNTER_NAMES.filter((n) => n.startsWith('dropped_') || n.startsWith('failed_') || SIDE_LOSSES.includes(n))
    expect(names).toEqual(['received', 'written', 'dropped', 'failed', ...losses])
  })

  it('the docs list every counter, and nothing else, in the counters table', () => {
    const docs = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
    const table = docs.slice(docs.indexOf('<!-- counters table -->'), docs.indexOf('<!-- end counters table -->'))
    const documented = [...table.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1] as string)
    expect(documented.sort()).toEqual([...EVERY_NAME].sort())
  })
})

describe('usage_invalid through the worker', () => {
  const sql = sqlClient()
  afterAll(() => sql.end())

  it('a real app: the request succeeds, each kind of problem is printed once, the worker counts the calls and the exit line names them', async () => {
    const table = uniqueTable()
    const child = spawn(process.execPath, [APP, databaseUrl(), table], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
    const { answer, stats } = JSON.parse(stdout) as { answer: string; stats: Record<string, number> }
    expect(answer).toBe('served')
    expect(stats).toMatchObject({ received: 1, written: 1, spans: 1, usage_invalid: 3 })
    const lines = stderr.trim().split('\n')
    expect(lines.filter((l) => l.includes('inputTokens must be a non-negative integer'))).toHaveLength(1)
    expect(lines.filter((l) => l.includes('outputTokens must be a non-negative integer'))).toHaveLength(1)
    expect(lines).toContain('pino-sluice: received=1 written=1 dropped=0 failed=0 (usage_invalid=3)')
    const [row] = await sql`select input_tokens::int as input, output_tokens::int as output, data from ${sql(`${table}_spans`)}`
    expect(row).toMatchObject({ input: 2, output: 6, data: { usage_invalid: 3 } })
  })

  it('a plain log line with a usage_invalid field is not a span and is not counted', async () => {
    const h = await startTransport()
    pino(h.transport).info({ usage_invalid: 5 }, 'not a span')
    await h.close()
    expect(h.stats.read()).toMatchObject({ written: 1, usage_invalid: 0 })
    expectBalanced(h.stats, expect)
  })
})
