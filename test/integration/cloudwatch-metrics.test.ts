/**
 * End to end, as an app uses it: pino → pino-sluice (worker) → CloudWatch API
 * (moto_server, behind a recording proxy) and Postgres. Asserts on the
 * datapoints that really landed and on the rows that were stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, metric } from '../../src/index.js'
import {
  cloudWatchClient,
  landedValues,
  listMetrics,
  motoEndpoint,
  percentile,
  startRecordingProxy,
  statistics,
  totalLanded,
  uniqueNamespace,
  useDummyCredentials,
  type RecordingProxy,
} from '../support/cloudwatch.js'
import { appRowCount, expectBalanced, sqlClient, startTransport, type HarnessOptions } from '../support/transport.js'

const endpoint = motoEndpoint('cloudwatch-metrics.test.ts')
useDummyCredentials()
const SERVICE = { Service: 'checkout' }

describe.skipIf(!endpoint)('metrics → CloudWatch, end to end', () => {
  const sql = sqlClient()
  const client = cloudWatchClient(endpoint ?? 'http://127.0.0.1:1')
  let proxy: RecordingProxy
  beforeAll(async () => (proxy = await startRecordingProxy(endpoint)))
  afterAll(async () => {
    await proxy.close()
    client.destroy()
    await sql.end()
  })

  function options(namespace: string, extra: Partial<NonNullable<HarnessOptions['cloudwatch']>> = {}): HarnessOptions {
    // A long interval: sends happen on flush and close, so the tests decide when.
    return { cloudwatch: { namespace, endpoint: proxy.url, flushIntervalMs: 600_000, defaultDimensions: SERVICE, ...extra } }
  }

  it('aggregates explicit metric records into exact statistics and still stores every record', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport(options(namespace))
    let latencySum = 0
    for (let i = 0; i < 200; i++) {
      const value = (i % 50) + 0.5
      latencySum += value
      h.logger.info(metric('CheckoutLatency', value, 'Milliseconds', { Route: '/pay' }), 'paid')
    }
    for (let i = 0; i < 100; i++) h.logger.info(metric('Orders', 1, 'Count'))
    h.logger.info('no metric here')
    const before = (await proxy.forwarded()).length
    await h.flush()
    expect((await proxy.forwarded()).length - before).toBe(1)
    // Published before flush resolves: what was just sent is readable at once.
    expect(h.stats.read().metrics_sent).toBe(totalLanded(await landedValues(endpoint!, namespace)))
    expect(h.stats.read().metrics_sent).toBeGreaterThan(0)
    expect(await statistics(client, namespace, 'CheckoutLatency', { Route: '/pay', ...SERVICE })).toMatchObject({
      SampleCount: 200,
      Sum: latencySum,
      Minimum: 0.5,
      Maximum: 49.5,
    })
    expect(await statistics(client, namespace, 'Orders', SERVICE)).toMatchObject({ SampleCount: 100, Sum: 100 })
    const latency = (await listMetrics(client, namespace)).find((m) => m.MetricName === 'CheckoutLatency')
    expect(latency?.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Route', Value: '/pay' }, { Name: 'Service', Value: 'checkout' }]))
    expect(await appRowCount(sql, h.table)).toBe(301)
    const [row] = await sql`select data from ${sql(h.table)} where msg = 'paid' order by seq limit 1`
    expect(row?.data).toEqual({ metric: { name: 'CheckoutLatency', value: 0.5, unit: 'Milliseconds', dimensions: { Route: '/pay' } }, sluice_proof: expect.any(String) })
    await h.close()
    const flat = h.stats.readFlat()
    expect(flat).toMatchObject({ metrics_invalid: 0, metrics_cardinality: 0, metrics_dropped: 0, metrics_lost: 0 })
    // Self-metrics included: every datapoint counted as sent is in CloudWatch, and nothing more.
    expect(flat.metrics_sent).toBe(totalLanded(await landedValues(endpoint!, namespace)))
    expectBalanced(h.stats, expect)
  })

  it('keeps percentiles within the documented error when a period has more than 150 distinct values', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport(options(namespace, { selfMetrics: false }))
    // 2000 latencies log-spread over 1..1000 ms, with 0.001 ms precision: ~2000 distinct values.
    const emitted = Array.from({ length: 2000 }, (_, i) => Math.round(1000 * 10 ** ((3 * ((i * 7919) % 2000)) / 2000)) / 1000)
    for (const value of emitted) h.logger.info(metric('RenderTime', value, 'Milliseconds'))
    await h.close()
    const sent = (await proxy.forwarded()).at(-1)
    expect(sent?.maxValues).toBeLessThanOrEqual(150)
    const landed = (await landedValues(endpoint!, namespace)).get('RenderTime') ?? []
    expect(landed).toHaveLength(2000)
    const exactSum = emitted.reduce((a, b) => a + b, 0)
    expect(Math.abs(landed.reduce((a, b) => a + b, 0) - exactSum)).toBeLessThan(1e-6 * exactSum)
    expect(Math.min(...landed)).toBe(Math.min(...emitted))
    expect(Math.max(...landed)).toBe(Math.max(...emitted))
    // Values within a factor 1000 → 8 buckets per octave → error < 2^(1/8) − 1 ≈ 9.05 % (README).
    for (const p of [50, 90, 99, 99.9]) {
      const truth = percentile(emitted, p)
      expect(Math.abs(percentile(landed, p) - truth)).toBeLessThanOrEqual(0.0906 * truth)
    }
    expect(h.stats.readFlat()).toMatchObject({ metrics_sent: 2000, metrics_invalid: 0, metrics_lost: 0 })
    expectBalanced(h.stats, expect)
  })

  it('drops and counts NaN, ±Infinity and other datapoints CloudWatch would refuse; the rest lands', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport(options(namespace, { selfMetrics: false }))
    const tooManyDimensions = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`D${i}`, 'x']))
    h.logger.info(metric('Bad', Number.NaN))
    h.logger.info(metric('Bad', Number.POSITIVE_INFINITY))
    h.logger.info(metric('Bad', Number.NEGATIVE_INFINITY))
    h.logger.info(metric('Bad', 1e200))
    h.logger.info(metric('x'.repeat(256), 1))
    h.logger.info(metric('Bad', 1, 'Parsecs' as never))
    h.logger.info(metric('Bad', 1, 'Count', tooManyDimensions))
    h.logger.info(metric('Bad', 1, 'Count', { Route: 'x'.repeat(256) }))
    for (let i = 0; i < 10; i++) h.logger.info(metric('Good', i, 'Count'))
    await h.close()
    expect(h.stats.readFlat()).toMatchObject({ metrics_invalid: 8, metrics_sent: 10, metrics_lost: 0 })
    expect(await statistics(client, namespace, 'Good', SERVICE)).toMatchObject({ SampleCount: 10, Sum: 45 })
    expect((await listMetrics(client, namespace)).map((m) => m.MetricName)).toEqual(['Good'])
    // The records themselves are stored like any other.
    expect(await appRowCount(sql, h.table)).toBe(18)
    expect(h.stderr()).toContain('metrics_invalid')
    expectBalanced(h.stats, expect)
  })

  it('derives span duration, tokens, cost and cache hit ratio from span records', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport(options(namespace, { selfMetrics: false }))
    const tracer = createTracer(h.logger)
    for (let i = 0; i < 3; i++) {
      await tracer.span('llm.call', (span) => {
        span.recordUsage({ model: 'claude-x', inputTokens: 100, outputTokens: 50, cacheReadTokens: 300, cacheCreationTokens: 100, costUsd: 0.01 })
      })
    }
    await tracer.span('db.query', () => undefined)
    await h.close()
    const model = { Model: 'claude-x', ...SERVICE }
    expect(await statistics(client, namespace, 'SpanDuration', { SpanName: 'llm.call', ...SERVICE })).toMatchObject({ SampleCount: 3 })
    expect(await statistics(client, namespace, 'SpanDuration', { SpanName: 'db.query', ...SERVICE })).toMatchObject({ SampleCount: 1 })
    expect(await statistics(client, namespace, 'Tokens', { ...model, TokenType: 'input' })).toMatchObject({ Sum: 300 })
    expect(await statistics(client, namespace, 'Tokens', { ...model, TokenType: 'output' })).toMatchObject({ Sum: 150 })
    expect(await statistics(client, namespace, 'Tokens', { ...model, TokenType: 'cache_read' })).toMatchObject({ Sum: 900 })
    expect(await statistics(client, namespace, 'Tokens', { ...model, TokenType: 'cache_creation' })).toMatchObject({ Sum: 300 })
    const cost = await statistics(client, namespace, 'CostUSD', model)
    expect(cost.Sum).toBeCloseTo(0.03, 10)
    // 300 read of 100 + 300 + 100 prompt tokens.
    expect(await statistics(client, namespace, 'CacheHitRatio', model)).toMatchObject({ SampleCount: 3, Minimum: 0.6, Maximum: 0.6 })
    expect(h.stats.read()).toMatchObject({ received: 4, written: 4 })
    expectBalanced(h.stats, expect)
  })

  it('sends on the interval without a flush', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport(options(namespace, { flushIntervalMs: 200, selfMetrics: false }))
    for (let i = 0; i < 5; i++) h.logger.info(metric('Ticks', 1, 'Count'))
    await expect.poll(async () => (await statistics(client, namespace, 'Ticks', SERVICE)).SampleCount, { timeout: 10_000, interval: 200 }).toBe(5)
    await h.close()
    expect(h.stats.readFlat()).toMatchObject({ metrics_sent: 5, metrics_lost: 0 })
    expectBalanced(h.stats, expect)
  })

  it('sends the pipeline self-metrics, including drops by reason, and flushes them on exit', async () => {
    const namespace = uniqueNamespace()
    const h = await startTransport({ ...options(namespace), channel: { maxRecords: 16 } })
    for (let i = 0; i < 3000; i++) h.logger.info({ i }, 'burst')
    // No flush: close alone must deliver the last metrics within the exit budget.
    await h.close()
    const s = h.stats.read()
    expect(s.received).toBe(3000)
    const sum = async (name: string, dims: Record<string, string> = {}): Promise<number> =>
      (await statistics(client, namespace, name, { ...dims, ...SERVICE })).Sum ?? 0
    expect(await sum('Received')).toBe(s.received)
    expect(await sum('Written')).toBe(s.written)
    expect(await sum('Dropped', { Reason: 'overflow' })).toBe(s.droppedBy.overflow)
    expect((await statistics(client, namespace, 'FlushLatency', SERVICE)).SampleCount).toBe(s.batches)
    expect((await statistics(client, namespace, 'QueueDepth', SERVICE)).SampleCount).toBeGreaterThan(0)
    expect(h.stats.readFlat().metrics_lost).toBe(0)
    expectBalanced(h.stats, expect)
  })
})
