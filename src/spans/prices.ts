import { describe, OptionsError } from '../../sinks/shared/option-reader.js'
import { didYouMean } from '../../sinks/shared/did-you-mean.js'
import type { Usage } from './usage-input.js'

/**
 * USD per million tokens of each kind, for one model. The cache prices are
 * optional and default to `inputPerMTok`: a cached token is priced like an
 * uncached input token unless told otherwise, so a cost is never silently
 * zero (it may be too high: set them for providers with cache pricing, e.g.
 * Anthropic: reads 0.1x and 5-minute cache writes 1.25x the input price).
 */
export interface ModelPrice {
  inputPerMTok: number
  outputPerMTok: number
  /** Tokens read from the prompt cache (`cacheReadTokens`). Default: `inputPerMTok`. */
  cacheReadPerMTok?: number | undefined
  /** Tokens written to the prompt cache (`cacheCreationTokens`). Default: `inputPerMTok`. */
  cacheCreationPerMTok?: number | undefined
}

/** A price with every kind filled in (the defaults applied). */
export interface ResolvedPrice {
  readonly inputPerMTok: number
  readonly outputPerMTok: number
  readonly cacheReadPerMTok: number
  readonly cacheCreationPerMTok: number
}

export type PriceTable = Readonly<Record<string, ModelPrice>>

const REQUIRED = ['inputPerMTok', 'outputPerMTok'] as const
const OPTIONAL = ['cacheReadPerMTok', 'cacheCreationPerMTok'] as const
const PRICE_KEYS = [...REQUIRED, ...OPTIONAL]

function readPrice(where: string, fields: Record<string, unknown>, key: string, fallback: number | undefined): number {
  const value = fields[key]
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    const omit = fallback === undefined ? ' (required)' : '; omit it to price these tokens like input tokens'
    throw new OptionsError(`${where}.${key} must be a finite number >= 0 (USD per million tokens; use 0 when the model has no such price)${omit}, got ${describe(value)}`)
  }
  return value
}

/** Validated once in `createTracer`, so a typo in a price fails at startup, not as a wrong bill later. */
export function readPrices(raw: unknown): ReadonlyMap<string, ResolvedPrice> {
  const prices = new Map<string, ResolvedPrice>()
  if (raw === undefined) return prices
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OptionsError(`createTracer: prices must be an object keyed by model name, got ${describe(raw)}`)
  }
  for (const [model, entry] of Object.entries(raw as Record<string, unknown>)) {
    const where = `createTracer: prices[${JSON.stringify(model)}]`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new OptionsError(`${where} must be an object { inputPerMTok, outputPerMTok, cacheReadPerMTok?, cacheCreationPerMTok? } in USD per million tokens, got ${describe(entry)}`)
    }
    const fields = entry as Record<string, unknown>
    for (const key of Object.keys(fields)) {
      if (!PRICE_KEYS.includes(key as (typeof PRICE_KEYS)[number])) {
        throw new OptionsError(`${where} has an unknown key "${key}".${didYouMean(key, PRICE_KEYS)} Known keys: ${PRICE_KEYS.join(', ')}.`)
      }
    }
    const inputPerMTok = readPrice(where, fields, 'inputPerMTok', undefined)
    prices.set(
      model,
      Object.freeze({
        inputPerMTok,
        outputPerMTok: readPrice(where, fields, 'outputPerMTok', undefined),
        cacheReadPerMTok: readPrice(where, fields, 'cacheReadPerMTok', inputPerMTok),
        cacheCreationPerMTok: readPrice(where, fields, 'cacheCreationPerMTok', inputPerMTok),
      }),
    )
  }
  return prices
}

/** Token counts as span records carry them (numbers, or decimal strings above 2^53). */
type TokenCounts = Record<'input' | 'output' | 'cacheRead' | 'cacheCreation', number | bigint | string>

/** Cost of one call from list prices; float precision is plenty for money at these magnitudes. */
export function priceUsage(price: ResolvedPrice, usage: Pick<Usage, 'input' | 'output' | 'cacheRead' | 'cacheCreation'> | TokenCounts): number {
  return (
    (Number(usage.input) * price.inputPerMTok +
      Number(usage.output) * price.outputPerMTok +
      Number(usage.cacheRead) * price.cacheReadPerMTok +
      Number(usage.cacheCreation) * price.cacheCreationPerMTok) /
    1e6
  )
}
