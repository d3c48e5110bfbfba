import { describe } from '../options/option-reader.js'

/** Thrown at the call site when `span.recordUsage()` gets a value that cannot be stored exactly. */
export class UsageError extends TypeError {
  override readonly name = 'UsageError'
}

/** A token count as callers pass it: a safe integer, a bigint, or a decimal string (for counts beyond 2^53). */
export type TokenInput = number | bigint | string

/** What one model call used. `inputTokens` is the uncached input, as Anthropic's API reports it. */
export interface UsageInput {
  model: string
  inputTokens: TokenInput
  outputTokens: TokenInput
  cacheReadTokens?: TokenInput
  cacheCreationTokens?: TokenInput
  /** What the call cost in USD; when absent, the tracer's price table (if it knows the model) computes it. */
  costUsd?: number
}

/** A validated usage: exact counts as bigint. */
export interface Usage {
  model: string
  input: bigint
  output: bigint
  cacheRead: bigint
  cacheCreation: bigint
  costUsd: number | undefined
}

/** The columns are BIGINT: every count and every sum must fit in a signed 64-bit integer. */
export const BIGINT_MAX = 2n ** 63n - 1n
const DECIMAL = /^[0-9]+$/
const KEYS = new Set(['model', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'costUsd'])
const MAX_MODEL_LENGTH = 200

function tokenCount(value: unknown, field: string, required: boolean): bigint {
  if (value === undefined) {
    if (required) throw new UsageError(`recordUsage: ${field} is required (a non-negative integer; pass 0 when the call used none)`)
    return 0n
  }
  let count: bigint
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      throw new UsageError(`recordUsage: ${field} must be a non-negative integer, got ${describe(value)}`)
    }
    if (!Number.isSafeInteger(value)) {
      throw new UsageError(
        `recordUsage: ${field} is ${value}, beyond 2^53 where numbers lose digits; pass it as a bigint or a decimal string`,
      )
    }
    return BigInt(value)
  } else if (typeof value === 'bigint') {
    count = value
  } else if (typeof value === 'string' && DECIMAL.test(value)) {
    count = BigInt(value)
  } else {
    throw new UsageError(
      `recordUsage: ${field} must be a non-negative integer (number, bigint or decimal string), got ${describe(value)}`,
    )
  }
  if (count < 0n || count > BIGINT_MAX) {
    throw new UsageError(`recordUsage: ${field} must be between 0 and 2^63 - 1 (the BIGINT column), got ${describe(value)}`)
  }
  return count
}

/** Validates one `recordUsage` argument strictly: unknown keys, wrong types and out-of-range values throw. */
export function readUsage(input: unknown): Usage {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new UsageError(`recordUsage expects an object such as { model, inputTokens, outputTokens }, got ${describe(input)}`)
  }
  const raw = input as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) throw new UsageError(`recordUsage: unknown field "${key}". Known fields: ${[...KEYS].join(', ')}.`)
  }
  const { model, costUsd } = raw
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) {
    throw new UsageError(`recordUsage: model must be a non-empty string of at most ${MAX_MODEL_LENGTH} characters, got ${describe(model)}`)
  }
  if (costUsd !== undefined && (typeof costUsd !== 'number' || !Number.isFinite(costUsd) || costUsd < 0)) {
    throw new UsageError(`recordUsage: costUsd must be a finite number >= 0 (USD), got ${describe(costUsd)}. Omit it to price the call from the tracer's price table.`)
  }
  return {
    model,
    input: tokenCount(raw.inputTokens, 'inputTokens', true),
    output: tokenCount(raw.outputTokens, 'outputTokens', true),
    cacheRead: tokenCount(raw.cacheReadTokens, 'cacheReadTokens', false),
    cacheCreation: tokenCount(raw.cacheCreationTokens, 'cacheCreationTokens', false),
    costUsd,
  }
}
