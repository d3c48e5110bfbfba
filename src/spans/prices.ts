import { describe, OptionsError } from '../options/option-reader.js'
import type { Usage } from './usage-input.js'

/** USD per million tokens of each kind, for one model. */
export interface ModelPrice {
  inputPerMTok: number
  outputPerMTok: number
  cacheReadPerMTok: number
  cacheCreationPerMTok: number
}

export type PriceTable = Readonly<Record<string, ModelPrice>>

const PRICE_KEYS = ['inputPerMTok', 'outputPerMTok', 'cacheReadPerMTok', 'cacheCreationPerMTok'] as const

/** Validated once in `createTracer`, so a typo in a price fails at startup, not as a wrong bill later. */
export function readPrices(raw: unknown): ReadonlyMap<string, ModelPrice> {
  const prices = new Map<string, ModelPrice>()
  if (raw === undefined) return prices
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OptionsError(`createTracer: prices must be an object keyed by model name, got ${describe(raw)}`)
  }
  for (const [model, entry] of Object.entries(raw as Record<string, unknown>)) {
    const where = `createTracer: prices[${JSON.stringify(model)}]`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new OptionsError(`${where} must be an object { ${PRICE_KEYS.join(', ')} } in USD per million tokens, got ${describe(entry)}`)
    }
    const fields = entry as Record<string, unknown>
    for (const key of Object.keys(fields)) {
      if (!(PRICE_KEYS as readonly string[]).includes(key)) {
        throw new OptionsError(`${where} has an unknown key "${key}". Known keys: ${PRICE_KEYS.join(', ')}.`)
      }
    }
    const price = {} as Record<(typeof PRICE_KEYS)[number], number>
    for (const key of PRICE_KEYS) {
      const value = fields[key]
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new OptionsError(`${where}.${key} must be a finite number >= 0 (USD per million tokens; use 0 when the model has no such price), got ${describe(value)}`)
      }
      price[key] = value
    }
    prices.set(model, Object.freeze(price))
  }
  return prices
}

/** Cost of one call from list prices; float precision is plenty for money at these magnitudes. */
export function priceUsage(price: ModelPrice, usage: Usage): number {
  return (
    (Number(usage.input) * price.inputPerMTok +
      Number(usage.output) * price.outputPerMTok +
      Number(usage.cacheRead) * price.cacheReadPerMTok +
      Number(usage.cacheCreation) * price.cacheCreationPerMTok) /
    1e6
  )
}
