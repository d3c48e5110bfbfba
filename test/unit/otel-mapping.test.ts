/**
 * SluiceSpanProcessor with the real OpenTelemetry SDK, writing through a real
 * pino logger into memory: what record each OTel span becomes. The same
 * records into a real Postgres are in test/integration/otel-postgres.test.ts.
 */
import { Writable } from 'node:stream'
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { OptionsError } from '../../src/index.js'
import { otelMixin, SluiceSpanProcessor, type SluiceSpanProcessorOptions } from '../../src/otel/index.js'
import { registerGlobals, TracerProvider } from '../support/otel-sdk.js'

type Row = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function capture(options?: SluiceSpanProcessorOptions, serviceAttributes: Record<string, string> = { 'service.name': 'checkout' }) {
  const lines: Row[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = pino({ mixin: otelMixin }, stream)
  const processor = new SluiceSpanProcessor(logger, options)
  const provider = new TracerProvider({ resource: resourceFromAttributes(serviceAttributes), spanProcessors: [processor] })
  const tracer = provider.getTracer('orders-lib', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' })
  const spans = () => lines.filter((l) => l.sluice === 'span')
  return { lines, spans, logger, processor, provider, tracer }
}

beforeAll(() => {
  // The global tracer provider, context manager and propagator, as an app's setup registers them.
  registerGlobals()
})
afterAll(() => {
  trace.disable()
  context.disable()
  propagation.disable()
})
afterEach(() => vi.restoreAllMocks())

async function genAi(tracer: Tracer, attributes: Record<string, string | number>): Promise<void> {
  tracer.startActiveSpan('chat', { kind: SpanKind.CLIENT, attributes }, (span) => span.end())
}

describe('SluiceSpanProcessor: OTel span → span record', () => {
  it('nested spans across await keep trace, parent, kind, scope, resource and sub-ms times; logs inside carry the ids', async () => {
    const { tracer, spans, lines, logger } = capture()
    await tracer.startActiveSpan('GET /orders', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders' } }, async (root) => {
      logger.info('request in')
      await new Promise((resolve) => setTimeout(resolve, 2))
      await tracer.startActiveSpan('db.query', { kind: SpanKind.CLIENT }, async (child) => {
        await new Promise((resolve) => setImmediate(resolve))
        logger.info('querying')
        child.end()
      })
      root.end()
    })
    const [child, root] = spans()
    expect(root).toMatchObject({ name: 'GET /orders', status: 'ok', attributes: { 'http.route': '/orders' }, trace_flags: '01', level: 30 })
    expect(root?.parent_span_id).toBeUndefined()
    expect(root?.otel).toEqual({
      kind: 'SERVER',
      status_code: 'UNSET',
      scope: { name: 'orders-lib', version: '1.2.3', schema_url: 'https://opentelemetry.io/schemas/1.30.0' },
      resource: expect.objectContaining({ 'service.name': 'checkout' }),
    })
    expect(child).toMatchObject({ name: 'db.query', trace_id: root?.trace_id, parent_span_id: root?.span_id, otel: { kind: 'CLIENT' } })
    expect(root?.trace_id).toMatch(/^[0-9a-f]{32}$/)
    // Microsecond precision, end = start + duration, the child inside its parent.
    for (const s of [root, child]) {
      expect(Math.round(s?.start_time * 1000)).toBe(s?.start_time * 1000)
      expect(s?.end_time - s?.start_time).toBeCloseTo(s?.duration_ms, 2)
    }
    expect(child?.start_time).toBeGreaterThan(root?.start_time)
    expect(root?.duration_ms).toBeGreaterThan(1.5)
    const logs = lines.filter((l) => !l.sluice)
    expect(logs.map((l) => [l.msg, l.span_id, l.trace_flags])).toEqual([
      ['request in', root?.span_id, '01'],
      ['querying', child?.span_id, '01'],
    ])
  })

  it('an error span: status ERROR → error with the description, the exception type, level error; the exception event kept', () => {
    const { tracer, spans } = capture()
    tracer.startActiveSpan('charge', (span) => {
      const error = new TypeError('card declined: insufficient funds')
      span.recordException(error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' })
      span.end()
    })
    tracer.startActiveSpan('no description', (span) => {
      span.recordException(new RangeError('too big'))
      span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
    tracer.startActiveSpan('ok explicitly', (span) => {
      span.setStatus({ code: SpanStatusCode.OK })
      span.end()
    })
    const [charge, bare, ok] = spans()
    expect(charge).toMatchObject({ status: 'error', level: 50, error: { type: 'TypeError', message: 'payment failed' } })
    expect(charge?.otel).toMatchObject({ status_code: 'ERROR', status_message: 'payment failed' })
    expect(charge?.events).toEqual([
      {
        name: 'exception',
        time: expect.any(Number),
        attributes: { 'exception.type': 'TypeError', 'exception.message': 'card declined: insufficient funds', 'exception.stacktrace': expect.stringContaining('TypeError') },
      },
    ])
    expect(bare).toMatchObject({ status: 'error', error: { type: 'RangeError', message: 'too big' } })
    expect(ok).toMatchObject({ status: 'ok', otel: { status_code: 'OK' } })
    expect(ok?.error).toBeUndefined()
  })

  it('events keep their timestamps and attributes; links keep their span context and attributes', () => {
    const { tracer, spans } = capture()
    const linked = tracer.startSpan('producer')
    linked.end()
    const before = Date.now()
    tracer.startActiveSpan('consumer', { kind: SpanKind.CONSUMER, links: [{ context: linked.spanContext(), attributes: { 'messaging.batch': 3 } }] }, (span) => {
      span.addEvent('first_token', { 'ttft.ms': 12 })
      span.addEvent('at a given time', {}, [1_700_000_000, 123_456_789])
      span.end()
    })
    const [producer, consumer] = spans()
    expect(consumer?.events).toEqual([
      { name: 'first_token', time: expect.any(Number), attributes: { 'ttft.ms': 12 } },
      { name: 'at a given time', time: 1_700_000_000_123.457 },
    ])
    expect(consumer?.events[0].time).toBeGreaterThanOrEqual(before - 1)
    expect(consumer?.otel.links).toEqual([{ trace_id: producer?.trace_id, span_id: producer?.span_id, trace_flags: '01', attributes: { 'messaging.batch': 3 } }])
    expect(consumer?.otel.kind).toBe('CONSUMER')
  })

  it('a remote parent from a traceparent header: same trace, parent span id, marked remote, tracestate kept', () => {
    const { tracer, spans } = capture()
    const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=abc' }
    const incoming = propagation.extract(context.active(), carrier)
    tracer.startActiveSpan('handle', { kind: SpanKind.SERVER }, incoming, (span) => span.end())
    const [span] = spans()
    expect(span).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', parent_span_id: 'b7ad6b7169203331', otel: { parent_remote: true, trace_state: 'vendor=abc' } })
  })

  it('a span ended with explicit times keeps them to the microsecond', () => {
    const { tracer, spans } = capture()
    const span = tracer.startSpan('timed', { startTime: [1_700_000_000, 1_500] })
    span.end([1_700_000_000, 2_501_499])
    expect(spans()[0]).toMatchObject({ start_time: 1_700_000_000_000.002, end_time: 1_700_000_000_002.501, duration_ms: 2.5 })
  })

  it('resourceAttributes keeps only the listed keys', () => {
    const { tracer, spans } = capture({ resourceAttributes: ['service.name'] }, { 'service.name': 'api', 'host.name': 'box', 'process.pid': '1' })
    tracer.startSpan('x').end()
    expect(spans()[0]?.otel.resource).toEqual({ 'service.name': 'api' })
  })

  it('GenAI content attributes move to payload (offloaded to S3 when big)', () => {
    const { tracer, spans } = capture()
    genAi(tracer, { 'gen_ai.input.messages': '[{"role":"user"}]', 'gen_ai.output.messages': '[{"role":"assistant"}]', 'gen_ai.request.model': 'm' })
    const [span] = spans()
    expect(span?.payload).toEqual({ input: '[{"role":"user"}]', output: '[{"role":"assistant"}]' })
    expect(span?.attributes).toEqual({ 'gen_ai.request.model': 'm' })
  })
})

describe('SluiceSpanProcessor: GenAI usage', () => {
  it('input 1000 (cache included), cache_read 600, cache_creation 100 → input 300, 600, 100; model from the response', () => {
    const { tracer, spans, processor } = capture()
    genAi(tracer, {
      'gen_ai.request.model': 'claude-x',
      'gen_ai.response.model': 'claude-x-2026',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 50,
      'gen_ai.usage.cache_read.input_tokens': 600,
      'gen_ai.usage.cache_creation.input_tokens': 100,
    })
    const usage = spans()[0]?.usage
    const tokens = { input_tokens: 300, output_tokens: 50, cache_read_tokens: 600, cache_creation_tokens: 100 }
    expect(usage).toEqual({ ...tokens, models: { 'claude-x-2026': tokens } })
    expect(usage.cache_read_tokens / (usage.input_tokens + usage.cache_read_tokens + usage.cache_creation_tokens)).toBe(0.6)
    // The raw attributes stay as the instrumentation set them.
    expect(spans()[0]?.attributes['gen_ai.usage.input_tokens']).toBe(1000)
    expect(processor.stats()).toMatchObject({ spans: 1, usageSpans: 1, usageInvalid: 0, usageInconsistent: 0, usageIncomplete: 0 })
  })

  it("inputTokens: 'uncached' declares an instrumentation that reports the uncached input: stored as given, never inconsistent", () => {
    const { tracer, spans, processor } = capture({ inputTokens: 'uncached' })
    genAi(tracer, { 'gen_ai.response.model': 'm', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.cache_read.input_tokens': 600 })
    genAi(tracer, { 'gen_ai.response.model': 'm', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.cache_read.input_tokens': 600 })
    expect(spans().map((s) => s.usage.input_tokens)).toEqual([10, 1000])
    expect(processor.stats()).toMatchObject({ usageSpans: 2, usageInconsistent: 0 })
    expect(() => new SluiceSpanProcessor(pino(), { inputTokens: 'cached' as never })).toThrow(/inputTokens must be 'includes-cached'.*or 'uncached'/)
  })

  it('older spellings (cache_read_input_tokens, prompt/completion_tokens), request model, priced from the table', () => {
    const prices = { 'gpt-x': { inputPerMTok: 1, outputPerMTok: 4, cacheReadPerMTok: 0.1, cacheCreationPerMTok: 2 } }
    const { tracer, spans } = capture({ prices })
    genAi(tracer, {
      'gen_ai.request.model': 'gpt-x',
      'gen_ai.usage.prompt_tokens': 2000,
      'gen_ai.usage.completion_tokens': 100,
      'gen_ai.usage.cache_read_input_tokens': 1000,
      'gen_ai.usage.cache_creation_input_tokens': 500,
    })
    const usage = spans()[0]?.usage
    expect(usage).toMatchObject({ input_tokens: 500, output_tokens: 100, cache_read_tokens: 1000, cache_creation_tokens: 500 })
    // 500×1 + 100×4 + 1000×0.1 + 500×2 = 2000 µ$.
    expect(usage.cost_usd).toBeCloseTo(0.002, 12)
    expect(usage.models['gpt-x'].cost_usd).toBeCloseTo(0.002, 12)
  })

  it('counts beyond 2^53 given as decimal strings stay exact through the conversion', () => {
    const { tracer, spans } = capture()
    genAi(tracer, {
      'gen_ai.response.model': 'big',
      'gen_ai.usage.input_tokens': '9007199254741993',
      'gen_ai.usage.output_tokens': 1,
      'gen_ai.usage.cache_read.input_tokens': 1000,
    })
    expect(spans()[0]?.usage).toMatchObject({ input_tokens: 9007199254740993n.toString(), cache_read_tokens: 1000, models: { big: { input_tokens: '9007199254740993' } } })
  })

  it('a cost attribute wins over the price table; costAttribute renames it, null ignores it', () => {
    const prices = { m: { inputPerMTok: 1, outputPerMTok: 1, cacheReadPerMTok: 1, cacheCreationPerMTok: 1 } }
    const attributes = { 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 10, 'gen_ai.usage.cost': 0.5, 'llm.cost': 0.25 }
    const a = capture({ prices })
    genAi(a.tracer, attributes)
    expect(a.spans()[0]?.usage.cost_usd).toBe(0.5)
    const b = capture({ prices, costAttribute: 'llm.cost' })
    genAi(b.tracer, attributes)
    expect(b.spans()[0]?.usage.cost_usd).toBe(0.25)
    const c = capture({ prices, costAttribute: null })
    genAi(c.tracer, attributes)
    expect(c.spans()[0]?.usage.cost_usd).toBeCloseTo(20e-6, 15)
    const d = capture()
    genAi(d.tracer, { ...attributes, 'gen_ai.usage.cost': undefined as never })
    expect(d.spans()[0]?.usage.cost_usd).toBeUndefined()
  })

  it('invalid counts never throw: the span is stored without usage, counted, and reported once', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const { tracer, spans, processor } = capture()
    const bad = [-1, 1.5, 'many', 2 ** 60, '99999999999999999999']
    for (const value of bad) genAi(tracer, { 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': value, 'gen_ai.usage.output_tokens': 1 })
    genAi(tracer, { 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': '12', 'gen_ai.usage.output_tokens': 3, 'gen_ai.usage.cost': -2 })
    expect(spans()).toHaveLength(bad.length + 1)
    for (const span of spans().slice(0, bad.length)) {
      expect(span.usage).toBeUndefined()
      expect(span.usage_invalid).toBe(1)
      expect(span.otel.usage_problems[0]).toMatch(/^invalid: gen_ai\.usage\.input_tokens is .*, not a non-negative integer/)
    }
    // A decimal string count is read; a bad cost is ignored (no price table here: no cost).
    expect(spans()[bad.length]?.usage).toMatchObject({ input_tokens: 12, output_tokens: 3 })
    expect(spans()[bad.length]?.usage.cost_usd).toBeUndefined()
    expect(processor.stats()).toMatchObject({ spans: 6, usageSpans: 1, usageInvalid: 6 })
    const reports = stderr.mock.calls.map(([text]) => String(text)).filter((t) => t.startsWith('pino-sluice/otel:'))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(/invalid|not a non-negative integer/)
  })

  it('input below the cached tokens is kept as the uncached input and counted; missing counts and model are counted', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const { tracer, spans, processor } = capture()
    genAi(tracer, { 'gen_ai.response.model': 'm', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.cache_read.input_tokens': 600 })
    genAi(tracer, { 'gen_ai.usage.output_tokens': 7 })
    genAi(tracer, { 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'embed', 'gen_ai.usage.input_tokens': 40 })
    const [inconsistent, incomplete, embeddings] = spans()
    expect(inconsistent?.usage).toMatchObject({ input_tokens: 10, cache_read_tokens: 600 })
    expect(incomplete?.usage).toMatchObject({ input_tokens: 0, output_tokens: 7, models: { unknown: { output_tokens: 7 } } })
    expect(embeddings?.usage).toMatchObject({ input_tokens: 40, output_tokens: 0 })
    expect(embeddings?.otel.usage_problems).toBeUndefined()
    expect(processor.stats()).toMatchObject({ usageSpans: 3, usageInconsistent: 1, usageIncomplete: 2 })
    const reports = stderr.mock.calls.map(([text]) => String(text)).filter((t) => t.startsWith('pino-sluice/otel:'))
    expect(reports).toHaveLength(2)
  })
})

/** A destination whose flush(cb) is given, like pino.transport()'s. */
function destination(flush: (cb: () => void) => void, lines: string[] = []): Writable & { flush: typeof flush } {
  return Object.assign(new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(String(chunk)), done()) }), { flush })
}

describe('SluiceSpanProcessor: lifecycle and options', () => {
  it('forceFlush() settles with the logger destination; a span ending after shutdown() is still written, and counted', async () => {
    const lines: string[] = []
    const flushed: string[] = []
    const logger = pino(destination((cb) => setTimeout(() => (flushed.push('flushed'), cb()), 5), lines))
    const processor = new SluiceSpanProcessor(logger)
    const provider = new TracerProvider({ spanProcessors: [processor] })
    provider.getTracer('t').startSpan('before').end()
    const late = provider.getTracer('t').startSpan('late')
    await provider.forceFlush()
    expect(flushed).toEqual(['flushed'])
    await provider.shutdown()
    expect(flushed).toEqual(['flushed', 'flushed'])
    // A server still draining after the provider's shutdown: its spans reach the transport.
    late.end()
    expect(processor.stats()).toMatchObject({ spans: 2, afterShutdown: 1 })
    expect(lines.map((l) => JSON.parse(l).name)).toEqual(['before', 'late'])
  })

  it('forceFlush() rejects with a named timeout when the transport does not settle within flushTimeoutMs', async () => {
    const logger = pino(destination(() => {}))
    const processor = new SluiceSpanProcessor(logger, { flushTimeoutMs: 30 })
    await expect(processor.forceFlush()).rejects.toThrow(/did not settle within flushTimeoutMs \(30 ms\)/)
  })

  it('flushes each destination of a pino.multistream (as instrumentation-pino wraps it), and a custom flush when given', async () => {
    const calls: string[] = []
    const a = destination((cb) => (calls.push('a'), cb()))
    const b = new Writable({ write: (_chunk, _enc, done) => done() })
    const logger = pino({}, pino.multistream([{ stream: a }, { stream: b }]))
    await new SluiceSpanProcessor(logger).forceFlush()
    expect(calls).toEqual(['a'])
    await new SluiceSpanProcessor(logger, { flush: async () => calls.push('custom') }).forceFlush()
    expect(calls).toEqual(['a', 'custom'])
  })

  it('spans below the logger level are counted and reported once instead of vanishing in pino', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const { tracer, spans, processor, logger } = capture()
    logger.level = 'warn'
    tracer.startSpan('filtered').end()
    tracer.startSpan('filtered too').end()
    const failed = tracer.startSpan('failed')
    failed.setStatus({ code: SpanStatusCode.ERROR })
    failed.end()
    expect(spans().map((s) => s.name)).toEqual(['failed'])
    expect(processor.stats()).toMatchObject({ spans: 1, levelFiltered: 2 })
    expect(stderr.mock.calls.filter(([t]) => String(t).includes("below the logger's level"))).toHaveLength(1)
  })

  it('a logger that throws never throws into the app: counted and reported once', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const logger = { info: () => { throw new Error('stream destroyed') }, error: () => {} }
    const processor = new SluiceSpanProcessor(logger as never)
    const provider = new TracerProvider({ spanProcessors: [processor] })
    provider.getTracer('t').startSpan('a').end()
    provider.getTracer('t').startSpan('b').end()
    expect(processor.stats()).toMatchObject({ spans: 0, emitErrors: 2 })
    expect(stderr.mock.calls.filter(([t]) => String(t).includes('stream destroyed'))).toHaveLength(1)
  })

  it('option mistakes fail at construction, naming the option and the fix', () => {
    const logger = pino({ enabled: false })
    const make = (options: unknown) => () => new SluiceSpanProcessor(logger, options as SluiceSpanProcessorOptions)
    expect(() => new SluiceSpanProcessor(undefined as never)).toThrow(/first argument must be the pino logger/)
    expect(make({ price: {} })).toThrow(OptionsError)
    expect(make({ price: {} })).toThrow(/unknown option "price"/)
    expect(make({ prices: { m: { inputPerMTok: -1 } } })).toThrow(/^SluiceSpanProcessor: prices\["m"\]/)
    expect(make({ level: 'loud' })).toThrow(/level must be one of/)
    expect(make({ costAttribute: 3 })).toThrow(/costAttribute must be a non-empty attribute name or null/)
    expect(make({ resourceAttributes: 'service.name' })).toThrow(/resourceAttributes must be 'all' or an array/)
    expect(make({ flushTimeoutMs: 0 })).toThrow(/flushTimeoutMs must be an integer between 1 and 60000/)
    expect(make({ flush: 'sluice.flush' })).toThrow(/flush must be a function/)
  })
})
