/**
 * span.recordUsage on the app thread: strict validation at the call site,
 * exact counts beyond 2^53, multi-model roll-up, prices, cache hit ratio.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { cacheHitRatio, createTracer, sluiceMixin, UsageError, type TracerOptions } from '../src/index.js'

function capture(options?: TracerOptions) {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ mixin: sluiceMixin }, { write: (text: string) => lines.push(JSON.parse(text) as Record<string, unknown>) })
  const usageOf = (name: string) => lines.find((l) => l.sluice === 'span' && l.name === name)?.usage as Record<string, unknown> | undefined
  return { lines, usageOf, tracer: createTracer(logger, options) }
}

const ok = { model: 'claude-sonnet', inputTokens: 10, outputTokens: 5 }

describe('recordUsage validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['negative', { ...ok, inputTokens: -1 }, /inputTokens must be a non-negative integer, got -1/],
    ['NaN', { ...ok, outputTokens: Number.NaN }, /outputTokens must be a non-negative integer, got NaN/],
    ['Infinity', { ...ok, cacheReadTokens: Number.POSITIVE_INFINITY }, /cacheReadTokens must be a non-negative integer, got Infinity/],
    ['float', { ...ok, inputTokens: 1.5 }, /inputTokens must be a non-negative integer, got 1.5/],
    ['unsafe number', { ...ok, inputTokens: 2 ** 60 }, /beyond 2\^53 .* pass it as a bigint or a decimal string/],
    ['negative bigint', { ...ok, cacheCreationTokens: -3n }, /cacheCreationTokens must be between 0 and 2\^63 - 1/],
    ['bigint beyond BIGINT', { ...ok, inputTokens: 2n ** 63n }, /between 0 and 2\^63 - 1/],
    ['string beyond BIGINT', { ...ok, inputTokens: '9223372036854775808' }, /between 0 and 2\^63 - 1/],
    ['signed string', { ...ok, inputTokens: '-5' }, /number, bigint or decimal string\), got "-5"/],
    ['float string', { ...ok, inputTokens: '1.5' }, /got "1.5"/],
    ['empty string', { ...ok, inputTokens: '' }, /got ""/],
    ['missing inputTokens', { model: 'm', outputTokens: 1 }, /inputTokens is required/],
    ['missing model', { inputTokens: 1, outputTokens: 1 }, /model must be a non-empty string/],
    ['typo key', { ...ok, cacheReadToken: 3 }, /unknown field "cacheReadToken"/],
    ['negative cost', { ...ok, costUsd: -0.01 }, /costUsd must be a finite number >= 0/],
    ['NaN cost', { ...ok, costUsd: Number.NaN }, /costUsd must be a finite number >= 0/],
    ['string cost', { ...ok, costUsd: '0.1' }, /costUsd must be a finite number >= 0/],
    ['not an object', 42, /recordUsage expects an object/],
  ]
  for (const [label, usage, message] of cases) {
    it(`rejects ${label} with a clear UsageError and records nothing`, async () => {
      const { tracer, usageOf } = capture()
      await tracer.span('call', (span) => {
        expect(() => span.recordUsage(usage as never)).toThrow(UsageError)
        expect(() => span.recordUsage(usage as never)).toThrow(message)
      })
      expect(usageOf('call')).toBeUndefined()
    })
  }

  it('a throw from recordUsage inside tracer.span fails the span (error type UsageError)', async () => {
    const { tracer, lines } = capture()
    await expect(tracer.span('bad', (span) => span.recordUsage({ ...ok, inputTokens: -1 }))).rejects.toThrow(UsageError)
    expect(lines.find((l) => l.name === 'bad')).toMatchObject({ status: 'error', error: { type: 'UsageError' } })
  })

  it('rejects a call whose running total would overflow BIGINT, keeping the earlier totals', async () => {
    const { tracer, usageOf } = capture()
    const max = 2n ** 63n - 1n
    await tracer.span('big', (span) => {
      span.recordUsage({ ...ok, inputTokens: max - 10n })
      expect(() => span.recordUsage({ ...ok, inputTokens: 11 })).toThrow(/would reach 9223372036854775808/)
    })
    expect(usageOf('big')).toMatchObject({ input_tokens: (max - 10n).toString(), output_tokens: 5 })
  })
})

describe('recordUsage roll-up', () => {
  it('sums several calls per model and over all models; huge counts travel as exact strings', async () => {
    const { tracer, usageOf } = capture()
    const huge = 2n ** 60n + 7n // beyond 2^53
    await tracer.span('agent', (span) => {
      span.recordUsage({ model: 'opus', inputTokens: 100, outputTokens: 50, cacheReadTokens: 1000, cacheCreationTokens: 200, costUsd: 0.5 })
      span.recordUsage({ model: 'opus', inputTokens: '20', outputTokens: 10n, cacheReadTokens: huge, costUsd: 0.25 })
      span.recordUsage({ model: 'haiku', inputTokens: 7, outputTokens: 3, costUsd: 0.001 })
    })
    expect(usageOf('agent')).toEqual({
      input_tokens: 127,
      output_tokens: 63,
      cache_read_tokens: (huge + 1000n).toString(),
      cache_creation_tokens: 200,
      cost_usd: 0.751,
      models: {
        opus: { input_tokens: 120, output_tokens: 60, cache_read_tokens: (huge + 1000n).toString(), cache_creation_tokens: 200, cost_usd: 0.75 },
        haiku: { input_tokens: 7, output_tokens: 3, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 0.001 },
      },
    })
  })

  it('prices calls without costUsd from the price table, and leaves unpriced models without cost', async () => {
    const { tracer, usageOf } = capture({
      prices: { sonnet: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheCreationPerMTok: 3.75 } },
    })
    await tracer.span('priced', (span) => {
      span.recordUsage({ model: 'sonnet', inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 2_000_000, cacheCreationTokens: 0 })
      span.recordUsage({ model: 'local-llama', inputTokens: 5, outputTokens: 5 })
    })
    const usage = usageOf('priced') as { cost_usd: number; models: Record<string, { cost_usd?: number }> }
    expect(usage.models.sonnet?.cost_usd).toBeCloseTo(3 + 1.5 + 0.6, 10)
    expect(usage.models['local-llama']).not.toHaveProperty('cost_usd')
    expect(usage.cost_usd).toBeCloseTo(5.1, 10)
  })

  it('an explicit costUsd wins over the price table', async () => {
    const { tracer, usageOf } = capture({ prices: { m: { inputPerMTok: 1000, outputPerMTok: 1000, cacheReadPerMTok: 0, cacheCreationPerMTok: 0 } } })
    await tracer.span('explicit', (span) => span.recordUsage({ model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.02 }))
    expect(usageOf('explicit')).toMatchObject({ cost_usd: 0.02 })
  })

  it('keeps a model called "__proto__" as a plain key', async () => {
    const { tracer, usageOf } = capture()
    await tracer.span('proto', (span) => span.recordUsage({ model: '__proto__', inputTokens: 1, outputTokens: 2 }))
    const models = (usageOf('proto') as { models: Record<string, unknown> }).models
    expect(Object.keys(models)).toEqual(['__proto__'])
  })

  it('cache hit ratio is cache_read / (input + cache_read + cache_creation), null when there were no prompt tokens', () => {
    expect(cacheHitRatio(0, 0, 0)).toBeNull()
    expect(cacheHitRatio(0, 0, 10)).toBe(0)
    expect(cacheHitRatio(0, 10, 0)).toBe(1)
    expect(cacheHitRatio(100, 800, 100)).toBeCloseTo(0.8)
    expect(cacheHitRatio(1n, 2n ** 60n, 0n)).toBeCloseTo(1)
  })
})
