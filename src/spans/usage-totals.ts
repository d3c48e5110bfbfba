import type { ModelUsage, TokenCount } from '../../sinks/shared/span-record.js'
import { BIGINT_MAX, type Usage, type UsageProblem } from './usage-input.js'

interface Tally {
  input: bigint
  output: bigint
  cacheRead: bigint
  cacheCreation: bigint
  /** Sum of the costs known for this tally; undefined when no call had a cost. */
  cost: number | undefined
}

function emptyTally(): Tally {
  return { input: 0n, output: 0n, cacheRead: 0n, cacheCreation: 0n, cost: undefined }
}

/** Safe integers travel as JSON numbers, larger counts as decimal strings so no digit is lost. */
export function tokenCount(value: bigint): TokenCount {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()
}

class Overflow extends Error {
  constructor(readonly problem: UsageProblem) {
    super(problem.message)
  }
}

function checkFits(sum: bigint, field: string, model: string): bigint {
  if (sum > BIGINT_MAX) {
    const message = `recordUsage: ${field} for this span would reach ${sum} (model ${JSON.stringify(model)}), beyond the BIGINT column's 2^63 - 1`
    throw new Overflow({ kind: `${field}:span-total`, message })
  }
  return sum
}

function addTo(tally: Tally, usage: Usage, cost: number | undefined): Tally {
  return {
    input: checkFits(tally.input + usage.input, 'inputTokens', usage.model),
    output: checkFits(tally.output + usage.output, 'outputTokens', usage.model),
    cacheRead: checkFits(tally.cacheRead + usage.cacheRead, 'cacheReadTokens', usage.model),
    cacheCreation: checkFits(tally.cacheCreation + usage.cacheCreation, 'cacheCreationTokens', usage.model),
    cost: cost === undefined ? tally.cost : (tally.cost ?? 0) + cost,
  }
}

function toModelUsage(tally: Tally): ModelUsage {
  const out: ModelUsage = {
    input_tokens: tokenCount(tally.input),
    output_tokens: tokenCount(tally.output),
    cache_read_tokens: tokenCount(tally.cacheRead),
    cache_creation_tokens: tokenCount(tally.cacheCreation),
  }
  if (tally.cost !== undefined) out.cost_usd = tally.cost
  return out
}

/**
 * The usage of one span: per model and in total. A span's usage is only what
 * was recorded on it (not its children's), so summing spans never double counts.
 */
export class UsageTotals {
  private total = emptyTally()
  private readonly models = new Map<string, Tally>()

  /** Adds one call, or changes nothing and returns the problem when a sum would overflow BIGINT. */
  add(usage: Usage, cost: number | undefined): UsageProblem | undefined {
    try {
      const total = addTo(this.total, usage, cost)
      const model = addTo(this.models.get(usage.model) ?? emptyTally(), usage, cost)
      this.total = total
      this.models.set(usage.model, model)
      return undefined
    } catch (error) {
      if (error instanceof Overflow) return error.problem
      throw error
    }
  }

  toRecord(): ModelUsage & { models: Record<string, ModelUsage> } {
    const models: Record<string, ModelUsage> = {}
    // defineProperty: a model named "__proto__" must stay a plain key.
    for (const [name, tally] of this.models) {
      Object.defineProperty(models, name, { value: toModelUsage(tally), enumerable: true, writable: true, configurable: true })
    }
    return { ...toModelUsage(this.total), models }
  }
}

/**
 * Share of prompt tokens served from the prompt cache:
 * cache_read / (input + cache_read + cache_creation); null when no prompt tokens were used.
 */
export function cacheHitRatio(input: number | bigint, cacheRead: number | bigint, cacheCreation: number | bigint): number | null {
  const denominator = Number(input) + Number(cacheRead) + Number(cacheCreation)
  return denominator > 0 ? Number(cacheRead) / denominator : null
}
