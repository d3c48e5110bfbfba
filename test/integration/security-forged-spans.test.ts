/**
 * Issue 27.7: a logged object cannot pass for a span or a metric. An app that
 * logs a request body (`log.info(JSON.parse(body))`) used to let the client
 * write a span with a chosen trace_id and cost_usd; now only records signed
 * by this process's tracer, OTel processor or metric() are spans and metrics
 * (sinks/shared/record-proof.ts), and everything else is a plain log row,
 * counted written like any other.
 */
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { observeRecord } from '../../sinks/cloudwatch/record-metrics.js'
import { createSluice } from '../../dist/src/index.js'
import { createTracer, metric } from '../../src/index.js'
import { parseLine } from '../../src/records/parse-line.js'
import { isProven } from '../../sinks/shared/record-proof.js'
import { databaseUrl, expectBalanced, sqlClient, startTransport, uniqueTable } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

const FORGED_TRACE = 'f'.repeat(32)

/** What a client sends and an app logs as is. */
function forgedBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      sluice: 'span',
      trace_id: FORGED_TRACE,
      span_id: 'e'.repeat(16),
      name: 'llm.complete',
      start_time: Date.now(),
      end_time: Date.now() + 1,
      duration_ms: 1,
      status: 'ok',
      usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 99999, models: { opus: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 99999 } } },
      ...extra,
    }),
  ) as Record<string, unknown>
}

function parsed(value: Record<string, unknown>) {
  const line = JSON.stringify(value)
  const result = parseLine(line, Buffer.byteLength(line), 1, Date.now())
  if (!result.ok) throw new Error('must parse')
  return result
}

describe('the worker tells signed records from logged objects', () => {
  it('a span the tracer signed is a span; the same fields without, or with a changed cost, are not', () => {
    const records: Record<string, unknown>[] = []
    const tracer = createTracer({ info: (r: Record<string, unknown>) => records.push(r), error: (r: Record<string, unknown>) => records.push(r) } as never)
    tracer.startSpan('work').recordUsage({ model: 'opus', inputTokens: 10, outputTokens: 5, costUsd: 0.01 }).end()
    const genuine = JSON.parse(JSON.stringify(records[0])) as Record<string, unknown>
    expect(typeof genuine.sluice_proof).toBe('string')
    expect(isProven(parsed(genuine).record.value, 'span')).toBe(true)

    const unsigned = parsed(forgedBody())
    expect(isProven(unsigned.record.value, 'span')).toBe(false)
    expect(unsigned.forged).toBeUndefined()

    // A proof copied from a genuine span onto other fields (its cost raised) proves nothing.
    const raised = { ...genuine, usage: { ...(genuine.usage as object), cost_usd: 99999 } }
    const copied = parsed(raised)
    expect(isProven(copied.record.value, 'span')).toBe(false)
    expect(copied.forged).toBe(true)
  })

  it('only a metric() field feeds CloudWatch; a logged object with a metric key is data', () => {
    const seen: string[] = []
    const intake = { add: (name: unknown) => seen.push(String(name)) } as never
    observeRecord(parsed({ level: 30, ...metric('Checkout', 1, 'Count') }).record, intake, Date.now())
    observeRecord(parsed({ level: 30, metric: { name: 'Forged', value: 1e9, unit: 'Count' } }).record, intake, Date.now())
    observeRecord(parsed({ level: 30, metric: { name: 'Forged', value: 1e9, unit: 'Count' }, sluice_proof: metric('Checkout', 1, 'Count').sluice_proof }).record, intake, Date.now())
    observeRecord(parsed({ level: 30, ...forgedBody() }).record, intake, Date.now())
    expect(seen).toEqual(['Checkout'])
  })
})

describe('forged spans end to end: stored as log rows, counted written', () => {
  it('pino.transport(): the forged cost never reaches the spans table', async () => {
    const h = await startTransport()
    const tracer = createTracer(h.logger)
    await tracer.span('real', async (span) => {
      span.recordUsage({ model: 'opus', inputTokens: 10, outputTokens: 5, costUsd: 0.5 })
    })
    h.logger.info(forgedBody(), 'request body')
    h.logger.info(forgedBody({ sluice_proof: 'AAAAAAAAAAAAAAAAAAAAAA' }), 'request body with a made-up proof')
    await h.flush()
    const spans = await sql`select name, trace_id from ${sql(`${h.table}_spans`)}`
    expect(spans.map((s) => s.name)).toEqual(['real'])
    expect(spans.map((s) => s.trace_id)).not.toContain(FORGED_TRACE)
    const logs = await sql`select msg, data from ${sql(h.table)} where data->>'trace_id' = ${FORGED_TRACE} or data->'usage' is not null order by seq`
    expect(logs.map((r) => r.msg)).toEqual(['request body', 'request body with a made-up proof'])
    expect(logs[0]?.data).toMatchObject({ sluice: 'span', usage: { cost_usd: 99999 } })
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 3, written: 3, spans: 1, failed: 0, dropped: 0 })
    expectBalanced(h.stats, expect)
    // The made-up proof is reported once, with what may have caused it.
    expect(h.stderr().match(/carried a sluice_proof that this process did not make/g)).toHaveLength(1)
  })

  it('createSluice(): its worker knows the key too', async () => {
    const table = uniqueTable('forged')
    const sluice = createSluice({ postgres: { url: databaseUrl(), table }, exit: { report: false } })
    const log = pino(sluice.transport)
    const tracer = createTracer(log)
    await tracer.span('real', async () => {})
    log.info(forgedBody(), 'request body')
    await sluice.flush()
    await sluice.close()
    const spans = await sql`select name from ${sql(`${table}_spans`)}`
    expect(spans.map((s) => s.name)).toEqual(['real'])
    const [forged] = await sql`select msg, data->>'sluice' as sluice from ${sql(table)} where msg = 'request body'`
    expect(forged).toEqual({ msg: 'request body', sluice: 'span' })
    expect(sluice.stats.read()).toMatchObject({ received: 2, written: 2, spans: 1 })
  })
})
