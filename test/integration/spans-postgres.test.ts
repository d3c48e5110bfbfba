/**
 * Spans end to end: tracer on the app thread → real pino transport → the
 * spans table and the per-trace view in a real Postgres, with exact accounting.
 */
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import { expectBalanced, sqlClient, startTransport, type Harness } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

function tracedLogger(h: Harness) {
  const logger = pino({ mixin: sluiceMixin }, h.transport)
  return { logger, tracer: createTracer(logger) }
}

describe('spans → Postgres', () => {
  it('stores every recorded field, exact BIGINT beyond 2^53, and the logs inside spans carry the ids', async () => {
    const h = await startTransport()
    const { logger, tracer } = tracedLogger(h)
    const huge = 2n ** 62n + 3n // beyond 2^53, within BIGINT
    let traceId = ''
    let llmSpanId = ''
    await tracer.span('checkout', { attributes: { route: '/checkout', user: 42 } }, async (root) => {
      traceId = root.traceId
      logger.info({ items: 3 }, 'cart loaded')
      await tracer.span('llm.complete', async (span) => {
        llmSpanId = span.spanId
        span.setPayload({ input: { prompt: 'summarize' }, output: 'done' })
        span.addEvent('first_token', { ms: 12 })
        span.recordUsage({ model: 'opus', inputTokens: 100, outputTokens: 50, cacheReadTokens: huge, cacheCreationTokens: 10, costUsd: 0.25 })
        span.recordUsage({ model: 'haiku', inputTokens: '7', outputTokens: 3n, costUsd: 0.001 })
        logger.warn('slow model')
      })
      await expect(
        tracer.span('charge', async () => {
          throw new TypeError('card declined')
        }),
      ).rejects.toThrow('card declined')
    })
    await h.flush()

    const spans = await sql`select *, input_tokens::text as input_text, cache_read_tokens::text as cache_read_text,
        cost_usd::text as cost_text, model_usage::text as model_usage_text
      from ${sql(`${h.table}_spans`)} where trace_id = ${traceId} order by start_time, duration_ms desc`
    expect(spans.map((s) => s.name)).toEqual(['checkout', 'llm.complete', 'charge'])
    const [root, llm, charge] = spans
    expect(root).toMatchObject({ parent_span_id: null, status: 'ok', attributes: { route: '/checkout', user: 42 }, events: [], payload: null })
    expect(root?.input_text).toBe('0')
    expect(root?.cost_usd).toBeNull()
    expect(root?.model_usage).toEqual({})
    expect(root?.pid).toBe(process.pid)
    expect(root?.hostname).toBeTypeOf('string')
    expect(root?.data).toEqual({})
    expect(llm).toMatchObject({
      span_id: llmSpanId,
      parent_span_id: root?.span_id,
      status: 'ok',
      payload: { input: { prompt: 'summarize' }, output: 'done' },
      events: [{ name: 'first_token', attributes: { ms: 12 } }],
    })
    expect(llm?.input_text).toBe('107')
    expect(llm?.cache_read_text).toBe(huge.toString())
    expect(llm?.cost_text).toBe('0.251')
    // jsonb keeps per-model counts as exact numbers, even beyond 2^53.
    expect(llm?.model_usage_text).toContain(`"cache_read_tokens": ${huge}`)
    const [opusRead] = await sql`select (model_usage->'opus'->'cache_read_tokens')::bigint::text as n,
        (model_usage->'haiku'->>'cost_usd')::numeric::text as haiku_cost
      from ${sql(`${h.table}_spans`)} where span_id = ${llmSpanId}`
    expect(opusRead).toEqual({ n: huge.toString(), haiku_cost: '0.001' })
    expect(charge).toMatchObject({ parent_span_id: root?.span_id, status: 'error', error_type: 'TypeError', error_message: 'card declined' })
    for (const span of spans) {
      expect(span.end_time.getTime() - span.start_time.getTime()).toBeCloseTo(span.duration_ms, -1)
    }
    expect((charge?.start_time as Date).getTime()).toBeGreaterThanOrEqual((llm?.end_time as Date).getTime() - 1)

    const logs = await sql`select msg, trace_id, span_id from ${sql(h.table)} where trace_id = ${traceId} order by seq`
    expect(logs).toEqual([
      { msg: 'cart loaded', trace_id: traceId, span_id: root?.span_id },
      { msg: 'slow model', trace_id: traceId, span_id: llmSpanId },
    ])
    // Span records go to the spans table only.
    const [{ n: spanLikeLogs }] = (await sql`select count(*)::int as n from ${sql(h.table)} where data ? 'sluice'`) as unknown as [{ n: number }]
    expect(spanLikeLogs).toBe(0)

    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 5, written: 5, spans: 3, dropped: 0, failed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('rolls up tokens and cost per trace in the view, with the cache hit ratio guarded for zero', async () => {
    const h = await startTransport()
    const { tracer } = tracedLogger(h)
    let usageTrace = ''
    let emptyTrace = ''
    let creationOnlyTrace = ''
    await tracer.span('agent', async (root) => {
      usageTrace = root.traceId
      root.recordUsage({ model: 'opus', inputTokens: 100, outputTokens: 10, cacheReadTokens: 800, cacheCreationTokens: 100, costUsd: 0.5 })
      await Promise.all([
        tracer.span('tool-a', (s) => s.recordUsage({ model: 'haiku', inputTokens: 50, outputTokens: 5, costUsd: 0.01 })),
        tracer.span('tool-b', (s) => s.recordUsage({ model: 'opus', inputTokens: 50, outputTokens: 5, cacheReadTokens: 200, costUsd: 0.2 })),
      ])
    })
    await tracer.span('no-model', async (span) => (emptyTrace = span.traceId))
    await tracer.span('first-call', async (span) => {
      creationOnlyTrace = span.traceId
      span.recordUsage({ model: 'opus', inputTokens: 0, outputTokens: 1, cacheCreationTokens: 500 })
    })
    await h.flush()

    const view = sql(`${h.table}_spans_traces`)
    const [agent] = await sql`select root_name, spans::int, errors::int, input_tokens::text, output_tokens::text, cache_read_tokens::text,
        cache_creation_tokens::text, cost_usd::text, cache_hit_ratio::float8 from ${view} where trace_id = ${usageTrace}`
    expect(agent).toEqual({
      root_name: 'agent',
      spans: 3,
      errors: 0,
      input_tokens: '200',
      output_tokens: '20',
      cache_read_tokens: '1000',
      cache_creation_tokens: '100',
      cost_usd: '0.71',
      cache_hit_ratio: 1000 / (200 + 1000 + 100),
    })
    const [empty] = await sql`select spans::int, input_tokens::text, cost_usd, cache_hit_ratio from ${view} where trace_id = ${emptyTrace}`
    expect(empty).toEqual({ spans: 1, input_tokens: '0', cost_usd: null, cache_hit_ratio: null })
    const [creation] = await sql`select cache_hit_ratio::float8 from ${view} where trace_id = ${creationOnlyTrace}`
    expect(creation?.cache_hit_ratio).toBe(0)

    // Per model across a trace: one query over model_usage.
    const perModel = await sql`select m.key as model, sum((m.value->>'input_tokens')::bigint)::text as input_tokens,
        sum((m.value->>'cost_usd')::numeric)::text as cost_usd
      from ${sql(`${h.table}_spans`)} s, jsonb_each(s.model_usage) m where s.trace_id = ${usageTrace} group by m.key order by m.key`
    expect(perModel).toEqual([
      { model: 'haiku', input_tokens: '50', cost_usd: '0.01' },
      { model: 'opus', input_tokens: '150', cost_usd: '0.7' },
    ])
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 5, written: 5, spans: 5 })
    expectBalanced(h.stats, expect)
  })

  it('creates the spans table, its indexes and view through the migration system', async () => {
    const h = await startTransport()
    h.logger.info('x')
    await h.flush()
    const spans = `${h.table}_spans`
    const indexes = await sql`select indexname from pg_indexes where tablename = ${spans} order by 1`
    expect(indexes.map((r) => r.indexname)).toEqual([`${spans}_start`, `${spans}_trace`, `${spans}_wseq`])
    const migrations = await sql`select component, version from pino_sluice_migrations where target = ${h.table} order by 1`
    expect(migrations.map((m) => `${m.component}@${m.version}`)).toEqual(expect.arrayContaining(['logs@1', 'spans@1']))
    const [view] = await sql`select count(*)::int as n from pg_views where viewname = ${`${spans}_traces`}`
    expect(view?.n).toBe(1)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('stores a record that only claims to be a span as a log row, so nothing is lost or fails', async () => {
    const h = await startTransport()
    h.logger.info({ sluice: 'span', name: 'hand-made', trace_id: 'not-hex' }, 'fake span')
    h.logger.info({ sluice: 'span', trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), name: 'n', start_time: 1, end_time: 2, duration_ms: 1, status: 'ok', usage: { $ref: 's3://x' } })
    await h.flush()
    const rows = await sql`select msg, data from ${sql(h.table)} where data->>'sluice' = 'span' order by seq`
    expect(rows).toHaveLength(2)
    expect(rows[0]?.data).toMatchObject({ name: 'hand-made', sluice: 'span' })
    expect(rows[1]?.data).toMatchObject({ usage: { $ref: 's3://x' } })
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 2, written: 2, spans: 0, failed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('counts spans and logs alike in the accounting across many batches', async () => {
    const h = await startTransport({ batch: { maxRecords: 7, intervalMs: 50 } })
    const { logger, tracer } = tracedLogger(h)
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        tracer.span(`job-${i}`, async (span) => {
          logger.info({ i }, 'working')
          span.recordUsage({ model: 'm', inputTokens: i, outputTokens: 1 })
        }),
      ),
    )
    await h.close()
    const [spanRows] = await sql`select count(*)::int as n, sum(input_tokens)::int as input from ${sql(`${h.table}_spans`)}`
    const [logRows] = await sql`select count(*)::int as n from ${sql(h.table)} where span_id is not null`
    expect(spanRows).toEqual({ n: 40, input: (39 * 40) / 2 })
    expect(logRows?.n).toBe(40)
    expect(h.stats.read()).toMatchObject({ received: 80, written: 80, spans: 40, dropped: 0, failed: 0 })
    expectBalanced(h.stats, expect)
  })
})
