/**
 * Models missing from the price table (issue 26): their cost is stored NULL,
 * so each is said once on stderr, counted by the OTel processor, and the
 * trace header says how many calls its cost leaves out.
 */
import { Writable } from 'node:stream'
import { TracerProvider } from '@opentelemetry/sdk-trace'
import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTracer } from '../../src/index.js'
import { SluiceSpanProcessor } from '../../src/otel/index.js'
import type { Trace, TraceSpan } from '../../src/spans/load-trace.js'
import { buildTraceTree, renderTraceTree, traceTreeJson } from '../../src/spans/trace-tree.js'

const sink = (): { logger: pino.Logger; lines: Record<string, unknown>[] } => {
  const lines: Record<string, unknown>[] = []
  const logger = pino(new Writable({ write: (c: Buffer, _e, done) => (lines.push(JSON.parse(String(c)) as Record<string, unknown>), done()) }))
  return { logger, lines }
}
const stderrText = (spy: { mock: { calls: unknown[][] } }): string => spy.mock.calls.map(([t]) => String(t)).join('')
afterEach(() => vi.restoreAllMocks())

function span(spanId: string, models: { model: string; costUsd: number | null }[]): TraceSpan {
  const zero = { input: 10n, output: 1n, cacheRead: 0n, cacheCreation: 0n }
  const known = models.filter((m) => m.costUsd !== null)
  return {
    spanId, parentSpanId: null, name: `call ${spanId}`, startMs: 1000, endMs: 1010, durationMs: 10, status: 'ok', errorType: null, errorMessage: null,
    attributes: {}, events: [], tokens: zero, costUsd: known.length === 0 ? null : known.reduce((sum, m) => sum + (m.costUsd ?? 0), 0),
    models: models.map((m) => ({ ...zero, ...m })), writerId: 'w', seq: 1, rowId: spanId, hasPayload: false, pointers: {},
  }
}

describe('the trace header counts calls without a price', () => {
  it('says how many model usages the cost leaves out, and which models', () => {
    const trace: Trace = {
      traceId: 'a'.repeat(32),
      spans: [span('1', [{ model: 'priced', costUsd: 0.5 }]), span('2', [{ model: 'mystery', costUsd: null }]), span('3', [{ model: 'priced', costUsd: 0.25 }, { model: 'other', costUsd: null }])],
      logs: [],
      omitted: { spans: 0, logs: 0 },
    }
    const tree = buildTraceTree(trace)
    expect(tree.totals).toMatchObject({ costUsd: 0.75, unpriced: 2, unpricedModels: ['mystery', 'other'] })
    const text = renderTraceTree(tree)
    expect(text.split('\n')[0]).toContain('$0.7500  ·  2 calls unpriced (mystery, other), not in the cost')
    expect(text).toContain('model mystery  no price')
    expect(text).toContain('model other: in 10 out 1')
    expect(JSON.parse(traceTreeJson(tree)).totals).toMatchObject({ unpriced: 2, unpricedModels: ['mystery', 'other'] })
  })

  it('with no price at all, the header has no cost and says so', () => {
    const tree = buildTraceTree({ traceId: 'b'.repeat(32), spans: [span('1', [{ model: 'm', costUsd: null }])], logs: [], omitted: { spans: 0, logs: 0 } })
    const header = renderTraceTree(tree).split('\n')[0] as string
    expect(header).toContain('1 call unpriced (m)')
    expect(header).not.toContain('$')
  })
})

describe('a model without a price is said once', () => {
  it('by createTracer, per model, whatever the number of calls', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const { logger, lines } = sink()
    const tracer = createTracer(logger, { prices: { known: { inputPerMTok: 1, outputPerMTok: 1 } } })
    await tracer.span('calls', (s) => {
      for (let i = 0; i < 3; i++) s.recordUsage({ model: 'mystery', inputTokens: 1, outputTokens: 1 })
      s.recordUsage({ model: 'known', inputTokens: 1, outputTokens: 1 })
      s.recordUsage({ model: 'given', inputTokens: 1, outputTokens: 1, costUsd: 0.1 })
    })
    const text = stderrText(stderr)
    expect(text.match(/is not in the prices option/g)).toHaveLength(1)
    expect(text).toContain('model "mystery" is not in the prices option')
    const quiet = createTracer(logger)
    await quiet.span('no table', (s) => s.recordUsage({ model: 'mystery', inputTokens: 1, outputTokens: 1 }))
    expect(stderrText(stderr).match(/is not in the prices option/g), 'without a price table, NULL costs are expected: no line').toHaveLength(1)
    expect((lines[0]?.usage as { models: Record<string, { cost_usd?: number }> }).models.mystery?.cost_usd).toBeUndefined()
  })

  it('by SluiceSpanProcessor, counted in stats().unpricedSpans', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const { logger } = sink()
    const processor = new SluiceSpanProcessor(logger, { prices: { known: { inputPerMTok: 1, outputPerMTok: 1 } } })
    const tracer = new TracerProvider({ spanProcessors: [processor] }).getTracer('t')
    const call = (model: string): void => tracer.startSpan(`chat ${model}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 1 } }).end()
    call('mystery')
    call('mystery')
    call('known')
    expect(processor.stats()).toMatchObject({ usageSpans: 3, unpricedSpans: 2 })
    expect(stderrText(stderr).match(/is not in the prices option/g)).toHaveLength(1)
  })
})
