/**
 * A span's big payload goes to S3 (real s3rver on loopback) while its row
 * keeps the ids, timing and token usage; the pointer lands in `payload`.
 */
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import { localS3Options, s3Endpoint, uniquePrefix } from '../support/s3.js'
import { expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

describe.skipIf(!s3Endpoint)('spans with big payloads → S3', () => {
  it('offloads payload and keeps usage exact in the spans row', async () => {
    const h = await startTransport({ s3: localS3Options({ prefix: uniquePrefix(), thresholdBytes: 4096 }) })
    const tracer = createTracer(pino({ mixin: sluiceMixin }, h.transport))
    let spanId = ''
    await tracer.span('llm.call', async (span) => {
      spanId = span.spanId
      span.setPayload({ input: { prompt: 'x'.repeat(20_000) }, output: 'y'.repeat(10_000) })
      span.recordUsage({ model: 'opus', inputTokens: 1200, outputTokens: 340, cacheReadTokens: '18446744073709551', costUsd: 0.01 })
    })
    await h.close()
    const [row] = await sql`select name, status, payload, input_tokens::text, cache_read_tokens::text, cost_usd::text, model_usage
      from ${sql(`${h.table}_spans`)} where span_id = ${spanId}`
    expect(row).toMatchObject({ name: 'llm.call', status: 'ok', input_tokens: '1200', cache_read_tokens: '18446744073709551', cost_usd: '0.01' })
    expect(JSON.stringify(row?.payload)).toContain('s3://')
    expect(JSON.stringify(row?.payload).length).toBeLessThan(1000)
    expect(Object.keys(row?.model_usage as object)).toEqual(['opus'])
    expect(h.stats.read()).toMatchObject({ received: 1, written: 1, spans: 1, offloaded: 1 })
    expectBalanced(h.stats, expect)
  })
})
