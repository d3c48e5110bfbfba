/**
 * The metrics stage driven directly (no pino, no Postgres) against the local
 * CloudWatch API, for the volume cases: request counts, the 1000-datum and
 * 1 MB limits, the cardinality guard and throttling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveCloudWatchOptions } from '../../sinks/cloudwatch/cloudwatch-options.js'
import { MetricsStage } from '../../sinks/cloudwatch/metrics-stage.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { Counters } from '../../src/counters/counters.js'
import { metric } from '../../src/index.js'
import { markProven } from '../../sinks/shared/record-proof.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import {
  cloudWatchClient,
  landedValues,
  listMetrics,
  motoEndpoint,
  startRecordingProxy,
  statistics,
  totalLanded,
  uniqueNamespace,
  useDummyCredentials,
  type RecordingProxy,
} from '../support/cloudwatch.js'

const endpoint = motoEndpoint('cloudwatch-aggregation.test.ts')
useDummyCredentials()
const running = Deadline.never().context()

let seq = 0
/** The start of the current minute: all records of a test fall in one period, whenever the test runs. */
function periodStart(): number {
  const now = Date.now()
  return now - (now % 60_000)
}
const T = periodStart()

function record(fields: object, time = T): LogRecord {
  seq++
  // As the worker's parse leaves a metric() record: proof checked (sinks/shared/record-proof.ts).
  return { seq, time, level: 30, bytes: 100, value: markProven({ ...fields }, 'metric') }
}

function stageFor(proxy: RecordingProxy, namespace: string, extra: Record<string, unknown> = {}): { stage: MetricsStage; counters: Counters } {
  const options = resolveCloudWatchOptions({ cloudwatch: { namespace, endpoint: proxy.url, selfMetrics: false, flushIntervalMs: 3_600_000, ...extra } })
  const counters = new Counters()
  const stage = new MetricsStage(options!, counters)
  stage.start()
  return { stage, counters }
}

function metricCounters(counters: Counters): Record<string, number> {
  const v = counters.values
  return { sent: v.metrics_sent, invalid: v.metrics_invalid, cardinality: v.metrics_cardinality, dropped: v.metrics_dropped, lost: v.metrics_lost }
}

describe.skipIf(!endpoint)('CloudWatch aggregation against moto', () => {
  const client = cloudWatchClient(endpoint ?? 'http://127.0.0.1:1')
  let proxy: RecordingProxy
  beforeAll(async () => (proxy = await startRecordingProxy(endpoint)))
  afterAll(async () => {
    await proxy.close()
    client.destroy()
  })

  it('turns 100k datapoints over 1000 series into one PutMetricData call with exact statistics', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace)
    const before = (await proxy.requests()).length
    let expectedSum = 0
    // Batches of 1000 records, as the pipeline hands them over.
    for (let batch = 0; batch < 100; batch++) {
      const records: LogRecord[] = []
      for (let i = 0; i < 1000; i++) {
        const value = (i % 7) + batch % 5
        if (i === 0) expectedSum += value
        records.push(record(metric('Latency', value, 'Milliseconds', { Route: `/r${i}` })))
      }
      await stage.write(records, running)
    }
    await stage.close(running)
    const calls = (await proxy.requests()).slice(before)
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ datums: 1000 })
    expect(calls[0]!.bytes).toBeLessThan(1_000_000)
    expect(metricCounters(counters)).toEqual({ sent: 100_000, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
    expect(totalLanded(await landedValues(endpoint!, namespace))).toBe(100_000)
    const r0 = await statistics(client, namespace, 'Latency', { Route: '/r0' })
    expect(r0).toMatchObject({ SampleCount: 100, Sum: expectedSum, Minimum: 0, Maximum: 4 })
  })

  it('splits more than 1000 series into several requests of at most 1000 datums', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace)
    const before = (await proxy.requests()).length
    const records = Array.from({ length: 2500 }, (_, i) => record(metric('Hits', 1, 'Count', { Key: `k${i}` })))
    await stage.write(records, running)
    // Full batches of 1000 go at once, without waiting for the interval or a flush.
    await expect.poll(async () => (await proxy.forwarded()).length - before, { timeout: 5000 }).toBe(2)
    await stage.flush(running)
    const calls = (await proxy.requests()).slice(before)
    expect(calls.map((c) => c.datums)).toEqual([1000, 1000, 500])
    expect((await listMetrics(client, namespace)).length).toBe(2500)
    await stage.close(running)
    expect(metricCounters(counters)).toEqual({ sent: 2500, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
  })

  it('keeps every request under 1 MB when histograms are large', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace)
    const before = (await proxy.requests()).length
    // 400 series × 150 distinct long values: about 1.6 MB of datums if sent at once.
    for (let s = 0; s < 400; s += 100) {
      const records: LogRecord[] = []
      for (let series = s; series < s + 100; series++) {
        for (let v = 0; v < 150; v++) records.push(record(metric('Payload', 1000 + v + series / 1e4 + 1e-9, 'Bytes', { Series: `s${series}` })))
      }
      await stage.write(records, running)
    }
    await stage.close(running)
    const calls = (await proxy.requests()).slice(before)
    expect(calls.length).toBeGreaterThan(1)
    for (const call of calls) {
      expect(call.bytes).toBeLessThanOrEqual(1_000_000)
      expect(call.maxValues).toBeLessThanOrEqual(150)
    }
    expect(calls.reduce((n, c) => n + c.datums, 0)).toBe(400)
    expect(metricCounters(counters)).toEqual({ sent: 60_000, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
  })

  it('drops new series past maxSeries and keeps aggregating the known ones', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace, { maxSeries: 100 })
    const records = Array.from({ length: 150 }, (_, i) => record(metric('Calls', 1, 'Count', { User: `u${i}` })))
    // The first series again, after the guard closed: still counted.
    records.push(record(metric('Calls', 5, 'Count', { User: 'u0' })))
    await stage.write(records, running)
    await stage.close(running)
    expect(metricCounters(counters)).toEqual({ sent: 101, invalid: 0, cardinality: 50, dropped: 0, lost: 0 })
    expect((await listMetrics(client, namespace)).length).toBe(100)
    expect(await statistics(client, namespace, 'Calls', { User: 'u0' })).toMatchObject({ SampleCount: 2, Sum: 6 })
  })

  it('lets the self-metrics through when the app exhausts maxSeries', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace, { maxSeries: 10, selfMetrics: true })
    counters.add('received', 20)
    await stage.write(Array.from({ length: 20 }, (_, i) => record(metric('Flood', 1, 'Count', { Id: `i${i}` }))), running)
    await stage.close(running)
    expect(counters.values.metrics_cardinality).toBe(10)
    const names = new Set((await listMetrics(client, namespace)).map((m) => m.MetricName))
    expect([...names].sort()).toEqual(['Flood', 'QueueDepth', 'Received', 'Written'])
    expect(await statistics(client, namespace, 'Received')).toMatchObject({ Sum: 20 })
  })

  it('drops datapoints whose time CloudWatch would refuse (older than 14 days, more than 2 h ahead)', async () => {
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(proxy, namespace)
    const day = 24 * 3600_000
    await stage.write([record(metric('Age', 1), Date.now() - 15 * day), record(metric('Age', 2), Date.now() + day / 8), record(metric('Age', 3))], running)
    await stage.close(running)
    expect(metricCounters(counters)).toEqual({ sent: 1, invalid: 2, cardinality: 0, dropped: 0, lost: 0 })
  })

  it('retries after Throttling and lands every datapoint exactly once', async () => {
    const throttling = await startRecordingProxy(endpoint, 2)
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(throttling, namespace)
    const records = Array.from({ length: 300 }, (_, i) => record(metric('Orders', i, 'Count', { Shop: `s${i % 3}` })))
    await stage.write(records, running)
    await stage.flush(running)
    await stage.close(running)
    const calls = await throttling.requests()
    await throttling.close()
    expect(calls.filter((r) => r.throttled)).toHaveLength(2)
    expect(calls.filter((r) => !r.throttled)).toHaveLength(1)
    expect(metricCounters(counters)).toEqual({ sent: 300, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
    const s0 = await statistics(client, namespace, 'Orders', { Shop: 's0' })
    expect(s0).toMatchObject({ SampleCount: 100, Sum: (0 + 297) * 50, Minimum: 0, Maximum: 297 })
  })

  it('merges a batch the SDK gave up on back into the next send', async () => {
    // Four throttled answers exhaust the SDK's four attempts of the first send.
    const throttling = await startRecordingProxy(endpoint, 4)
    const namespace = uniqueNamespace()
    const { stage, counters } = stageFor(throttling, namespace)
    await stage.write(Array.from({ length: 50 }, (_, i) => record(metric('Refunds', i, 'Count'))), running)
    await stage.flush(running)
    expect(metricCounters(counters)).toEqual({ sent: 0, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
    await stage.write([record(metric('Refunds', 100, 'Count'))], running)
    await stage.flush(running)
    await stage.close(running)
    const calls = await throttling.requests()
    await throttling.close()
    expect(calls.map((c) => c.throttled)).toEqual([true, true, true, true, false])
    expect(metricCounters(counters)).toEqual({ sent: 51, invalid: 0, cardinality: 0, dropped: 0, lost: 0 })
    expect(await statistics(client, namespace, 'Refunds')).toMatchObject({ SampleCount: 51, Sum: 1225 + 100, Minimum: 0, Maximum: 100 })
  })

  it('counts what CloudWatch never accepts as lost, within the exit budget', async () => {
    const throttling = await startRecordingProxy(endpoint, Number.MAX_SAFE_INTEGER)
    const { stage, counters } = stageFor(throttling, uniqueNamespace())
    await stage.write(Array.from({ length: 40 }, (_, i) => record(metric('Doomed', i, 'Count'))), running)
    const started = Date.now()
    await stage.close(Deadline.in(1500).context())
    expect(Date.now() - started).toBeLessThan(3000)
    expect((await throttling.requests()).length).toBeGreaterThanOrEqual(1)
    await throttling.close()
    expect(metricCounters(counters)).toEqual({ sent: 0, invalid: 0, cardinality: 0, dropped: 0, lost: 40 })
  })
})
