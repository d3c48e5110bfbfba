/**
 * OpenTelemetry into Postgres: the real SDK (sdk-trace's TracerProvider, its
 * AsyncLocalStorage context manager, the W3C propagator) with
 * SluiceSpanProcessor on a logger writing through the real transport, then
 * the rows, the per-trace view, the accounting and `sluice trace`.
 */
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino'
import { resourceFromAttributes } from '@opentelemetry/resources'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otelMixin, SluiceSpanProcessor, type SluiceSpanProcessorOptions } from '../../src/otel/index.js'
import { TracerProvider } from '../support/otel-sdk.js'
import { databaseUrl, expectBalanced, sqlClient, startTransport, uniqueTable, type Harness, type HarnessOptions } from '../support/transport.js'

const run = promisify(execFile)
const sql = sqlClient()
const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const EXIT_APP = fileURLToPath(new URL('../fixtures/otel-exit-app.mjs', import.meta.url))

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
})
afterAll(async () => {
  context.disable()
  propagation.disable()
  await sql.end()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function otelHarness(options: HarnessOptions = {}, processorOptions?: SluiceSpanProcessorOptions) {
  const h = await startTransport(options)
  const logger = pino({ mixin: otelMixin }, h.transport)
  const processor = new SluiceSpanProcessor(logger, processorOptions)
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'shop', 'service.version': '7' }), spanProcessors: [processor] })
  return { h, logger, processor, provider, tracer: provider.getTracer('shop-instrumentation', '0.1.0') }
}

const spansOf = (h: Harness, traceId: string) =>
  sql`select *, input_tokens::int, output_tokens::int, cache_read_tokens::int, cache_creation_tokens::int, cost_usd::float8,
      (extract(epoch from start_time) * 1000)::float8 as start_ms, (extract(epoch from end_time) * 1000)::float8 as end_ms
    from ${sql(`${h.table}_spans`)} where trace_id = ${traceId} order by start_time, duration_ms desc`

describe('OpenTelemetry spans → Postgres', () => {
  it('nested spans across await, an error span, events, links and a remote parent land in their columns; logs join them', async () => {
    const { h, logger, processor, provider, tracer } = await otelHarness()
    const incoming = propagation.extract(context.active(), { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })
    const producer = tracer.startSpan('enqueue', { kind: SpanKind.PRODUCER }, context.active())
    producer.end()
    await tracer.startActiveSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout' } }, incoming, async (root) => {
      logger.info({ cart: 3 }, 'checkout started')
      await sleep(3)
      await tracer.startActiveSpan('reserve stock', { links: [{ context: producer.spanContext(), attributes: { why: 'batch' } }] }, async (span) => {
        // Rows are ordered by start time, stored in ms, and a 1 ms timer may fire after 0.1 ms: charge
        // then started in the same ms as this span and sorted first (CI, node24 leg).
        await sleep(3)
        span.addEvent('stock.checked', { sku: 'A-1' })
        logger.info('stock reserved')
        span.end()
      })
      await tracer.startActiveSpan('charge', { kind: SpanKind.CLIENT }, async (span) => {
        await sleep(1)
        span.recordException(new TypeError('card declined'))
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' })
        logger.warn('charge failed')
        span.end()
      })
      root.end()
    })
    await provider.forceFlush()

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const rows = await spansOf(h, traceId)
    expect(rows.map((r) => r.name)).toEqual(['POST /checkout', 'reserve stock', 'charge'])
    const [root, reserve, charge] = rows
    expect(root).toMatchObject({ parent_span_id: '00f067aa0ba902b7', status: 'ok', attributes: { 'http.route': '/checkout' }, events: [], error_type: null, pid: process.pid })
    expect(root?.data).toEqual({
      trace_flags: '01',
      otel: {
        kind: 'SERVER',
        parent_remote: true,
        status_code: 'UNSET',
        scope: { name: 'shop-instrumentation', version: '0.1.0' },
        resource: expect.objectContaining({ 'service.name': 'shop', 'service.version': '7' }),
      },
    })
    expect(reserve).toMatchObject({ parent_span_id: root?.span_id, events: [{ name: 'stock.checked', attributes: { sku: 'A-1' } }] })
    expect(reserve?.data.otel.links).toEqual([{ trace_id: producer.spanContext().traceId, span_id: producer.spanContext().spanId, trace_flags: '01', attributes: { why: 'batch' } }])
    expect(reserve?.data.otel.parent_remote).toBeUndefined()
    expect(charge).toMatchObject({ parent_span_id: root?.span_id, status: 'error', error_type: 'TypeError', error_message: 'payment failed' })
    expect(charge?.events[0]).toMatchObject({ name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'card declined' } })
    expect(charge?.data.otel).toMatchObject({ kind: 'CLIENT', status_code: 'ERROR', status_message: 'payment failed' })
    // Times: sub-millisecond ends, children inside the parent, end - start = duration.
    // The SDK takes each start from Date.now() (whole ms) and the duration from the monotonic clock,
    // so two spans' times can be out of order by up to 1 ms: the ordering checks allow that much.
    for (const row of rows) expect(row.end_ms - row.start_ms).toBeCloseTo(row.duration_ms, 2)
    expect(reserve?.start_ms).toBeGreaterThanOrEqual(root?.start_ms - 1)
    expect(charge?.start_ms).toBeGreaterThanOrEqual(reserve?.end_ms - 1)
    expect(root?.end_ms).toBeGreaterThanOrEqual(charge?.end_ms - 1)

    const logs = await sql`select msg, span_id, data->>'trace_flags' as flags from ${sql(h.table)} where trace_id = ${traceId} order by seq`
    expect(logs).toEqual([
      { msg: 'checkout started', span_id: root?.span_id, flags: '01' },
      { msg: 'stock reserved', span_id: reserve?.span_id, flags: '01' },
      { msg: 'charge failed', span_id: charge?.span_id, flags: '01' },
    ])
    const { stdout, stderr } = await run(process.execPath, [CLI, 'trace', traceId, '--url', databaseUrl(), '--table', h.table], { env: { ...process.env, NO_COLOR: '1' } })
    expect(stderr).toBe('')
    expect(stdout).toMatch(new RegExp(`^trace ${traceId}  ·  3 spans  ·  1 error  ·  `))
    expect(stdout).toMatch(/^POST \/checkout {2}ok {2}[0-9.]+ ms$/m)
    expect(stdout).toMatch(/^├─ \d\d:\d\d:\d\d\.\d{3} INFO {2}checkout started \{"cart":3,"trace_flags":"01"\}$/m)
    expect(stdout).toMatch(/^├─ reserve stock {2}ok/m)
    expect(stdout).toMatch(/^│ {2}└─ \d\d:\d\d:\d\d\.\d{3} INFO {2}stock reserved/m)
    expect(stdout).toMatch(/^└─ charge {2}ERROR {2}[0-9.]+ ms {2}TypeError: payment failed$/m)
    expect(stdout).toMatch(/^ {3}└─ \d\d:\d\d:\d\d\.\d{3} WARN {2}charge failed/m)

    await provider.shutdown()
    await h.close()
    expect(processor.stats()).toMatchObject({ spans: 4, emitErrors: 0 })
    expect(h.stats.read()).toMatchObject({ received: 7, written: 7, spans: 4, dropped: 0, failed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('GenAI spans: OTel input (cache included) converted to uncached, per-model sums and the trace hit ratio', async () => {
    const prices = { 'claude-a': { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheCreationPerMTok: 3.75 } }
    const { h, provider, tracer, processor } = await otelHarness({}, { prices })
    const call = (model: string, usage: Record<string, number>) =>
      tracer.startActiveSpan(`chat ${model}`, { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, ...usage } }, (s) => s.end())
    let traceId = ''
    await tracer.startActiveSpan('agent', async (root) => {
      traceId = root.spanContext().traceId
      call('claude-a', { 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 200, 'gen_ai.usage.cache_read.input_tokens': 600, 'gen_ai.usage.cache_creation.input_tokens': 100 })
      await sleep(1)
      call('claude-a', { 'gen_ai.usage.input_tokens': 500, 'gen_ai.usage.output_tokens': 100, 'gen_ai.usage.cache_read_input_tokens': 400 })
      call('gpt-b', { 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 5, 'gen_ai.usage.cost': 0.001 })
      call('gpt-b', { 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': 5 })
      root.end()
    })
    await provider.forceFlush()

    const [first] = await sql`select input_tokens::int, output_tokens::int, cache_read_tokens::int, cache_creation_tokens::int, cost_usd::float8, model_usage
      from ${sql(`${h.table}_spans`)} where trace_id = ${traceId} and name = 'chat claude-a' order by start_time limit 1`
    // 1000 with 600 read and 100 written from the cache: 300 uncached.
    expect(first).toMatchObject({ input_tokens: 300, output_tokens: 200, cache_read_tokens: 600, cache_creation_tokens: 100 })
    expect(first?.cost_usd).toBeCloseTo((300 * 3 + 200 * 15 + 600 * 0.3 + 100 * 3.75) / 1e6, 12)
    expect(Object.keys(first?.model_usage)).toEqual(['claude-a'])
    const [one] = await sql`select cache_read_tokens::float8 / (input_tokens + cache_read_tokens + cache_creation_tokens) as ratio
      from ${sql(`${h.table}_spans`)} where trace_id = ${traceId} and input_tokens = 300`
    expect(one?.ratio).toBe(0.6)

    const perModel = await sql`select m.key as model, sum((m.value->>'input_tokens')::bigint)::int as input, sum((m.value->>'output_tokens')::bigint)::int as output,
        sum((m.value->>'cache_read_tokens')::bigint)::int as cache_read, sum((m.value->>'cache_creation_tokens')::bigint)::int as cache_creation,
        round(sum((m.value->>'cost_usd')::numeric), 9)::float8 as cost
      from ${sql(`${h.table}_spans`)} s, jsonb_each(s.model_usage) m where s.trace_id = ${traceId} group by m.key order by m.key`
    expect(perModel).toEqual([
      { model: 'claude-a', input: 400, output: 300, cache_read: 1000, cache_creation: 100, cost: (400 * 3 + 300 * 15 + 1000 * 0.3 + 100 * 3.75) / 1e6 },
      { model: 'gpt-b', input: 50, output: 5, cache_read: 0, cache_creation: 0, cost: 0.001 },
    ])
    const [view] = await sql`select spans::int, input_tokens::int, cache_read_tokens::int, cache_creation_tokens::int, cache_hit_ratio::float8
      from ${sql(`${h.table}_spans_traces`)} where trace_id = ${traceId}`
    expect(view).toEqual({ spans: 5, input_tokens: 450, cache_read_tokens: 1000, cache_creation_tokens: 100, cache_hit_ratio: 1000 / 1550 })
    // The span with a negative count is stored without usage, and counted by the transport like a bad recordUsage call.
    const [invalid] = await sql`select input_tokens::int, model_usage, data from ${sql(`${h.table}_spans`)} where trace_id = ${traceId} and attributes->>'gen_ai.usage.input_tokens' = '-5'`
    expect(invalid).toMatchObject({ input_tokens: 0, model_usage: {}, data: { usage_invalid: 1, otel: { usage_problems: [expect.stringMatching(/^invalid: gen_ai\.usage\.input_tokens is -5/)] } } })
    await h.close()
    expect(processor.stats()).toMatchObject({ spans: 5, usageSpans: 3, usageInvalid: 1 })
    expect(h.stats.read()).toMatchObject({ spans: 5, usage_invalid: 1 })
    expectBalanced(h.stats, expect)
  })

  it('with @opentelemetry/instrumentation-pino: its trace_id/span_id land in the columns, and forceFlush() settles through its multistream', async () => {
    const instrumentation = new PinoInstrumentation()
    instrumentation.enable()
    try {
      // The instrumentation patches pino when it is require()d (this is how a CommonJS app, or one with the ESM hook, gets it).
      const patchedPino = createRequire(import.meta.url)('pino') as typeof pino
      const h = await startTransport({ batch: { intervalMs: 60_000 } })
      const logger = patchedPino(h.transport)
      const provider = new TracerProvider({ spanProcessors: [new SluiceSpanProcessor(logger)] })
      const tracer = provider.getTracer('app')
      let ids = { traceId: '', spanId: '' }
      await tracer.startActiveSpan('job', async (span) => {
        ids = span.spanContext()
        await sleep(1)
        logger.info({ step: 1 }, 'inside the job')
        span.end()
      })
      logger.info('outside any span')
      // Batches wait 60 s: only a real flush through the multistream puts the rows there now.
      await provider.forceFlush()
      const logs = await sql`select msg, trace_id, span_id, data from ${sql(h.table)} order by seq`
      expect(logs).toEqual([
        { msg: 'inside the job', trace_id: ids.traceId, span_id: ids.spanId, data: { step: 1, trace_flags: '01' } },
        { msg: 'outside any span', trace_id: null, span_id: null, data: {} },
      ])
      const [span] = await sql`select name, span_id from ${sql(`${h.table}_spans`)} where trace_id = ${ids.traceId}`
      expect(span).toEqual({ name: 'job', span_id: ids.spanId })
      await h.close()
      expectBalanced(h.stats, expect)
    } finally {
      instrumentation.disable()
    }
  })

  it('a burst of 100k spans against a small channel: drops counted, every stored span intact, accounting exact', async () => {
    const { h, provider, tracer, processor } = await otelHarness({ channel: { maxRecords: 500 }, batch: { maxRecords: 200, intervalMs: 20 } }, { resourceAttributes: ['service.name'] })
    const total = 100_000
    for (let i = 0; i < total; i++) {
      const span = tracer.startSpan(`burst ${i}`, { attributes: { i, 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': i % 7 } })
      span.end()
    }
    await provider.shutdown()
    await h.close()
    const s = h.stats.read()
    expect(processor.stats()).toMatchObject({ spans: total, usageSpans: total, emitErrors: 0 })
    expect(s.received).toBe(total)
    expect(s.failed).toBe(0)
    expect(s.dropped_overflow).toBeGreaterThan(0)
    expect(s.written + s.dropped).toBe(total)
    const [stored] = await sql`select count(*)::int as n, count(distinct span_id)::int as ids, sum(output_tokens)::int as output,
        count(*) filter (where name = 'burst ' || (attributes->>'i') and input_tokens = 10 and output_tokens = (attributes->>'i')::int % 7
          and model_usage->'m'->>'input_tokens' = '10' and data->'otel'->'resource' = '{"service.name":"shop"}')::int as intact
      from ${sql(`${h.table}_spans`)}`
    expect(stored?.n).toBe(s.spans)
    expect(stored?.ids).toBe(stored?.n)
    expect(stored?.intact).toBe(stored?.n)
    // Spans are the only app records: every written record is a stored span (the drop notice rows are the transport's own).
    expect(s.spans).toBe(s.written)
    expectBalanced(h.stats, expect)
  })

  it('shutdown() at exit commits every span before the app goes; a span ended after it is still written before the sluice closes', async () => {
    const table = uniqueTable('otel_exit')
    const { stdout, stderr } = await run(process.execPath, [EXIT_APP, databaseUrl(), table, '300'], { timeout: 60_000 })
    expect(stderr).toBe('')
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toBe('spans in the table after shutdown(): 300')
    const report = JSON.parse(lines[1] ?? '{}')
    expect(report.processor).toMatchObject({ spans: 301, afterShutdown: 1 })
    expect(report.transport).toMatchObject({ received: 301, written: 301, spans: 301, dropped: 0, failed: 0 })
  })
})
