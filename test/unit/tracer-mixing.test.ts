/**
 * Mixing tracers (issue 26): a createTracer span inside an OpenTelemetry span
 * joins the OTel trace as its child, and log lines carry the ids of the
 * innermost span of either tracer, with sluiceMixin or otelMixin alike.
 */
import { Writable } from 'node:stream'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { TracerProvider } from '@opentelemetry/sdk-trace'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import { otelMixin } from '../../src/otel/index.js'
import { readActiveOtelSpan } from '../../src/otel/foreign-span-reader.js'
import { setForeignSpanReader } from '../../src/spans/foreign-span.js'

type Line = Record<string, unknown>

function capture(mixin: () => Record<string, string>): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = []
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(String(chunk)) as Line), done()) })
  return { logger: pino({ mixin }, stream), lines }
}

const contextManager = new AsyncLocalStorageContextManager()
const provider = new TracerProvider()
const otel = provider.getTracer('http')
beforeAll(() => context.setGlobalContextManager(contextManager.enable()))
afterAll(() => {
  context.disable()
})

describe.each([
  ['sluiceMixin', sluiceMixin],
  ['otelMixin', otelMixin],
])('a createTracer span inside an OTel span, logging with %s', (_name, mixin) => {
  it('joins the OTel trace as a child; lines carry the innermost span, OTel spans inside ours included', async () => {
    const { logger, lines } = capture(mixin)
    const tracer = createTracer(logger)
    const ids: Record<string, { traceId: string; spanId: string }> = {}
    await otel.startActiveSpan('GET /answer', async (http) => {
      ids.http = http.spanContext()
      logger.info('in http')
      await tracer.span('llm call', async (llm) => {
        ids.llm = llm
        logger.info('in llm')
        await otel.startActiveSpan('fetch', async (fetch) => {
          ids.fetch = fetch.spanContext()
          logger.info('in fetch')
          await tracer.span('parse', () => logger.info('in parse'))
          fetch.end()
        })
        logger.info('back in llm')
      })
      http.end()
    })
    const spans = Object.fromEntries(lines.filter((l) => l.name !== undefined && l.duration_ms !== undefined).map((l) => [l.name, l]))
    const traceId = ids.http!.traceId
    expect(spans['llm call']).toMatchObject({ trace_id: traceId, parent_span_id: ids.http!.spanId })
    expect(spans.parse).toMatchObject({ trace_id: traceId, parent_span_id: ids.fetch!.spanId })
    const logs = Object.fromEntries(lines.filter((l) => typeof l.msg === 'string').map((l) => [l.msg, l.span_id]))
    expect(logs).toMatchObject({ 'in http': ids.http!.spanId, 'in llm': ids.llm!.spanId, 'in fetch': ids.fetch!.spanId, 'back in llm': ids.llm!.spanId })
    expect(logs['in parse']).toBe(spans.parse?.span_id)
    for (const line of lines) expect(line.trace_id).toBe(traceId)
  })
})

describe('without pino-sluice/otel registering the reader', () => {
  it('a createTracer span inside an OTel span starts its own trace (OTel spans are invisible to it)', async () => {
    setForeignSpanReader(undefined)
    try {
      const { logger, lines } = capture(sluiceMixin)
      const tracer = createTracer(logger)
      let httpTrace = ''
      await otel.startActiveSpan('GET /', async (http) => {
        httpTrace = http.spanContext().traceId
        await tracer.span('llm call', () => {})
        http.end()
      })
      expect(lines[0]).toMatchObject({ name: 'llm call' })
      expect(lines[0]?.trace_id).not.toBe(httpTrace)
      expect(lines[0]?.parent_span_id).toBeUndefined()
    } finally {
      setForeignSpanReader(readActiveOtelSpan)
    }
  })

  it('explicit parent: null still starts a new trace inside an OTel span', async () => {
    const { logger, lines } = capture(sluiceMixin)
    const tracer = createTracer(logger)
    await otel.startActiveSpan('GET /', async (http) => {
      await tracer.span('detached', { parent: null }, () => logger.info('in detached'))
      expect(trace.getActiveSpan()).toBe(http)
      http.end()
    })
    const span = lines.find((l) => l.name === 'detached')
    expect(span?.parent_span_id).toBeUndefined()
    expect(lines.find((l) => l.msg === 'in detached')?.span_id).toBe(span?.span_id)
  })
})
