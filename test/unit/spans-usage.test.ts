/**
 * span.recordUsage on the app thread: lenient by default (record what is
 * valid, count the call, one stderr line per kind of problem), strict on
 * request; exact counts beyond 2^53, multi-model roll-up, prices, cache hit ratio.
 */
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { cacheHitRatio, createTracer, OptionsError, sluiceMixin, UsageError, type TracerOptions } from '../../src/index.js'

function capture(options?: TracerOptions) {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ mixin: sluiceMixin }, { write: (text: string) => lines.push(JSON.parse(text) as Record<string, unknown>) })
  const usageOf = (name: string) => lines.find((l) => l.sluice === 'span' && l.name === name)?.usage as Record<string, unknown> | undefined
  return { lines, usageOf, tracer: createTracer(logger, options) }
}

const ok = { model: 'claude-sonnet', inputTokens: 10, outputTokens: 5 }

describe('recordUsage validation (strict: true)', () => {
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
    ['typo key', { ...ok, cacheReadToken: 3 }, /unknown field "cacheReadToken". Did you mean "cacheReadTokens"\?/],
    ['snake_case key', { model: 'm', input_tokens: 3, outputTokens: 1 }, /unknown field "input_tokens". Did you mean "inputTokens"\?/],
    ['null count', { ...ok, inputTokens: null }, /inputTokens must be a non-negative integer .*got null/],
    ['negative cost', { ...ok, costUsd: -0.01 }, /costUsd must be a finite number >= 0/],
    ['NaN cost', { ...ok, costUsd: Number.NaN }, /costUsd must be a finite number >= 0/],
    ['string cost', { ...ok, costUsd: '0.1' }, /costUsd must be a finite number >= 0/],
    ['not an object', 42, /recordUsage expects an object/],
  ]
  for (const [label, usage, message] of cases) {
    it(`rejects ${label} with a clear UsageError and records nothing`, async () => {
      const { tracer, usageOf } = capture({ strict: true })
      await tracer.span('call', (span) => {
        expect(() => span.recordUsage(usage as never)).toThrow(UsageError)
        expect(() => span.recordUsage(usage as never)).toThrow(message)
      })
      expect(usageOf('call')).toBeUndefined()
    })
  }

  it('a throw from recordUsage inside tracer.span fails the span (error type UsageError)', async () => {
    const { tracer, lines } = capture({ strict: true })
    await expect(tracer.span('bad', (span) => span.recordUsage({ ...ok, inputTokens: -1 }))).rejects.toThrow(UsageError)
    expect(lines.find((l) => l.name === 'bad')).toMatchObject({ status: 'error', error: { type: 'UsageError' } })
  })

  it('rejects a call whose running total would overflow BIGINT, keeping the earlier totals', async () => {
    const { tracer, usageOf } = capture({ strict: true })
    const max = 2n ** 63n - 1n
    await tracer.span('big', (span) => {
      span.recordUsage({ ...ok, inputTokens: max - 10n })
      expect(() => span.recordUsage({ ...ok, inputTokens: 11 })).toThrow(/would reach 9223372036854775808/)
    })
    expect(usageOf('big')).toMatchObject({ input_tokens: (max - 10n).toString(), output_tokens: 5 })
  })
})

describe('recordUsage by default: telemetry never fails the request', () => {
  let stderr: string[]
  beforeEach(() => {
    stderr = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk))
      return true
    })
  })
  afterEach(() => vi.restoreAllMocks())

  it('records the valid part of a call with a null count, counts the call in usage_invalid, and does not throw', async () => {
    const { tracer, lines, usageOf } = capture()
    const result = await tracer.span('call', (span) => {
      span.recordUsage({ model: 'sonnet', inputTokens: null as never, outputTokens: 5, cacheReadTokens: 7 })
      return 'answer'
    })
    expect(result).toBe('answer')
    expect(usageOf('call')).toMatchObject({ input_tokens: 0, output_tokens: 5, cache_read_tokens: 7, models: { sonnet: { output_tokens: 5 } } })
    expect(lines.find((l) => l.name === 'call')).toMatchObject({ status: 'ok', usage_invalid: 1 })
    expect(stderr).toHaveLength(1)
    expect(stderr[0]).toMatch(/^pino-sluice: recordUsage: inputTokens must be a non-negative integer .*got null; recorded the rest of the call and counted it in usage_invalid .*strict: true.*\n$/)
  })

  it('prints one line per distinct kind of problem, however many calls and values repeat it', async () => {
    const { tracer, lines } = capture()
    await tracer.span('many', (span) => {
      for (let i = 1; i <= 50; i++) span.recordUsage({ ...ok, inputTokens: -i })
      span.recordUsage({ ...ok, outputTokens: Number.NaN })
      span.recordUsage({ ...ok, costUsd: -1 })
      span.recordUsage(ok)
    })
    expect(lines.find((l) => l.name === 'many')).toMatchObject({ usage_invalid: 52 })
    expect(stderr).toHaveLength(3)
    expect(stderr.join('')).toMatch(/inputTokens must be a non-negative integer, got -1;/)
    expect(stderr.join('')).toMatch(/outputTokens must be a non-negative integer, got NaN;/)
    expect(stderr.join('')).toMatch(/costUsd must be a finite number >= 0/)
  })

  it('suggests the camelCase name for a snake_case key, in one line rather than also "inputTokens is required"', async () => {
    const { tracer, usageOf } = capture()
    await tracer.span('snake', (span) => span.recordUsage({ model: 'm', input_tokens: 12, outputTokens: 3 } as never))
    expect(usageOf('snake')).toMatchObject({ input_tokens: 0, output_tokens: 3 })
    expect(stderr).toHaveLength(1)
    expect(stderr[0]).toMatch(/unknown field "input_tokens". Did you mean "inputTokens"\?/)
  })

  it('records tokens under model "unknown" when the model is missing, prices from the valid counts, and ignores a bad costUsd', async () => {
    const { tracer, usageOf } = capture({ prices: { m: { inputPerMTok: 1, outputPerMTok: 2 } } })
    await tracer.span('partial', (span) => {
      span.recordUsage({ inputTokens: 4, outputTokens: 1 } as never)
      span.recordUsage({ model: 'm', inputTokens: 1_000_000, outputTokens: 'many' as never, costUsd: Number.NaN })
    })
    const usage = usageOf('partial') as { models: Record<string, Record<string, unknown>> }
    expect(usage.models.unknown).toMatchObject({ input_tokens: 4, output_tokens: 1 })
    expect(usage.models.m).toMatchObject({ input_tokens: 1_000_000, output_tokens: 0, cost_usd: 1 })
  })

  it('a call that is no object at all records nothing but is counted', async () => {
    const { tracer, lines, usageOf } = capture()
    await tracer.span('nothing', (span) => span.recordUsage(undefined as never))
    expect(usageOf('nothing')).toBeUndefined()
    expect(lines.find((l) => l.name === 'nothing')).toMatchObject({ status: 'ok', usage_invalid: 1 })
  })

  it('a call that would overflow the span total is skipped, counted and reported', async () => {
    const { tracer, lines, usageOf } = capture()
    await tracer.span('big', (span) => {
      span.recordUsage({ ...ok, inputTokens: 2n ** 63n - 1n })
      span.recordUsage({ ...ok, inputTokens: 1 })
    })
    expect(usageOf('big')).toMatchObject({ input_tokens: (2n ** 63n - 1n).toString(), output_tokens: 5 })
    expect(lines.find((l) => l.name === 'big')).toMatchObject({ usage_invalid: 1 })
    expect(stderr.join('')).toMatch(/would reach 9223372036854775808/)
  })

  it('spans without problems carry no usage_invalid field', async () => {
    const { tracer, lines } = capture()
    await tracer.span('clean', (span) => span.recordUsage(ok))
    expect(lines.find((l) => l.name === 'clean')).not.toHaveProperty('usage_invalid')
    expect(stderr).toEqual([])
  })

  it('refuses a strict option that is not a boolean', () => {
    const logger = pino({ level: 'silent' })
    expect(() => createTracer(logger, { strict: 'yes' as never })).toThrow(/createTracer: strict must be true or false, got "yes"/)
    expect(() => createTracer(logger, { stric: true } as never)).toThrow(/unknown option "stric". Did you mean "strict"\?/)
  })
})

describe('prices', () => {
  it('cache prices are optional and default to the input price', async () => {
    const { tracer, usageOf } = capture({ prices: { m: { inputPerMTok: 2, outputPerMTok: 10 } } })
    await tracer.span('cached', (span) =>
      span.recordUsage({ model: 'm', inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 1_000_000, cacheCreationTokens: 1_000_000 }),
    )
    expect((usageOf('cached') as { cost_usd: number }).cost_usd).toBeCloseTo(6, 10)
  })

  it('a cache price that is given wins over the default', async () => {
    const { tracer, usageOf } = capture({ prices: { m: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3 } } })
    await tracer.span('read', (span) => span.recordUsage({ model: 'm', inputTokens: 0, outputTokens: 0, cacheReadTokens: 1_000_000, cacheCreationTokens: 1_000_000 }))
    expect((usageOf('read') as { cost_usd: number }).cost_usd).toBeCloseTo(0.3 + 3, 10)
  })

  it.each([
    [{ m: { outputPerMTok: 1 } }, /prices\["m"\]\.inputPerMTok must be a finite number >= 0 .*\(required\), got undefined/],
    [{ m: { inputPerMTok: 1, outputPerMTok: 1, cacheReadPerMTok: -1 } }, /cacheReadPerMTok must be .*omit it to price these tokens like input tokens, got -1/],
    [{ m: { inputPerMTok: 1, outputPerMTok: 1, cacheReadPerMtok: 1 } }, /unknown key "cacheReadPerMtok". Did you mean "cacheReadPerMTok"\?/],
  ])('refuses %j at createTracer', (prices, message) => {
    expect(() => createTracer(pino({ level: 'silent' }), { prices } as never)).toThrow(OptionsError)
    expect(() => createTracer(pino({ level: 'silent' }), { prices } as never)).toThrow(message)
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
