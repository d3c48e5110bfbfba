import { priceUsage, type ResolvedPrice } from '../spans/prices.js'
import type { ModelUsage, SpanRecordFields } from '../../sinks/shared/span-record.js'
import { BIGINT_MAX } from '../spans/usage-input.js'
import { tokenCount } from '../spans/usage-totals.js'
import type { AttributeValue, Attributes } from './readable-span.js'

/**
 * Token usage from the OpenTelemetry GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/).
 *
 * The one conversion: OTel's `gen_ai.usage.input_tokens` INCLUDES the tokens
 * read from and written to the prompt cache, while our `input_tokens` column
 * is the uncached input (as Anthropic's API reports it, and as the built-in
 * tracer's `recordUsage` takes it). So input 1000, cache_read 600,
 * cache_creation 100 is stored as input 300, cache_read 600, cache_creation 100:
 * hit ratio 600 / (300 + 600 + 100) = 0.6.
 */
export const GEN_AI = {
  responseModel: 'gen_ai.response.model',
  requestModel: 'gen_ai.request.model',
  operation: 'gen_ai.operation.name',
  input: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'],
  output: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'],
  cacheRead: ['gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'],
  cacheCreation: ['gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens'],
} as const

/** The model name recorded when a span has usage but names no model. */
export const UNKNOWN_MODEL = 'unknown'

/**
 * What can be wrong with a span's usage attributes. Each is counted by the
 * processor and reported once on stderr; none throws into the app.
 * - invalid: a count that is no non-negative integer <= 2^63 - 1, or a cost that is no finite number >= 0
 * - inconsistent: input_tokens below cache_read + cache_creation (the instrumentation reports uncached input)
 * - incomplete: no input_tokens, no output_tokens (other than for embeddings) or no model
 */
export type UsageProblemKind = 'invalid' | 'inconsistent' | 'incomplete'

export interface UsageProblem {
  kind: UsageProblemKind
  detail: string
}

export interface GenAiReading {
  /**
   * The record's `usage` field, as the built-in tracer writes it (totals plus
   * the one model); undefined for an invalid count (then nothing is stored in
   * the token columns). Its cost is from the cost attribute, else the price table.
   */
  usage?: NonNullable<SpanRecordFields['usage']>
  problems?: UsageProblem[]
}

const DIGITS = /^[0-9]+$/
const MAX_MODEL_LENGTH = 200

/** A count: a safe integer as a number (the common case, no BigInt cost), a larger one as a bigint. */
type Count = number | bigint | undefined | 'invalid'

/** Safe integers and decimal strings (instrumentations differ) up to the BIGINT column's maximum. */
function readCount(value: AttributeValue | undefined): Count {
  if (value === undefined) return undefined
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : 'invalid'
  if (typeof value === 'string' && DIGITS.test(value)) {
    const count = BigInt(value)
    if (count > BIGINT_MAX) return 'invalid'
    return count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(count) : count
  }
  return 'invalid'
}

/** input - cached, exact for any size (numbers while every operand is a number, whose results stay safe). */
function uncachedInput(input: number | bigint, cacheRead: number | bigint, cacheCreation: number | bigint): number | bigint {
  if (typeof input === 'number' && typeof cacheRead === 'number' && typeof cacheCreation === 'number') return input - cacheRead - cacheCreation
  return BigInt(input) - BigInt(cacheRead) - BigInt(cacheCreation)
}

const asTokenCount = (count: number | bigint) => (typeof count === 'number' ? count : tokenCount(count))

function price(p: ResolvedPrice, usage: ModelUsage): number {
  return priceUsage(p, { input: usage.input_tokens, output: usage.output_tokens, cacheRead: usage.cache_read_tokens, cacheCreation: usage.cache_creation_tokens })
}

function firstPresent(attributes: Attributes, names: readonly string[]): [string, AttributeValue | undefined] {
  for (const name of names) if (attributes[name] !== undefined) return [name, attributes[name]]
  return [names[0] as string, undefined]
}

const MODEL_ATTRIBUTES = [GEN_AI.responseModel, GEN_AI.requestModel] as const
const USAGE_ATTRIBUTES = [...GEN_AI.input, ...GEN_AI.output, ...GEN_AI.cacheRead, ...GEN_AI.cacheCreation]

function modelOf(attributes: Attributes): string | undefined {
  for (const name of MODEL_ATTRIBUTES) {
    const value = attributes[name]
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_MODEL_LENGTH) return value
  }
  return undefined
}

function hasUsage(attributes: Attributes): boolean {
  for (const name of USAGE_ATTRIBUTES) if (attributes[name] !== undefined) return true
  return false
}

/**
 * Reads one span's GenAI usage. Returns undefined, having allocated nothing,
 * for the common span without any `gen_ai.usage.*` token attribute.
 */
export function readGenAiUsage(
  attributes: Attributes,
  prices: ReadonlyMap<string, ResolvedPrice>,
  costAttribute: string | undefined,
  /** The instrumentation's convention (processor option `inputTokens`): OTel's, cached included, unless declared otherwise. */
  inputIncludesCached = true,
): GenAiReading | undefined {
  if (!hasUsage(attributes)) return undefined
  const problems: UsageProblem[] = []
  const counts: Record<'input' | 'output' | 'cacheRead' | 'cacheCreation', number | bigint> = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 }
  for (const key of ['input', 'output', 'cacheRead', 'cacheCreation'] as const) {
    const [name, raw] = firstPresent(attributes, GEN_AI[key])
    const count = readCount(raw)
    if (count === 'invalid') {
      problems.push({ kind: 'invalid', detail: `${name} is ${JSON.stringify(raw)}, not a non-negative integer up to 2^63 - 1` })
    } else if (count === undefined) {
      const optional = key === 'cacheRead' || key === 'cacheCreation' || (key === 'output' && attributes[GEN_AI.operation] === 'embeddings')
      if (!optional) problems.push({ kind: 'incomplete', detail: `${name} is missing (stored as 0)` })
    } else {
      counts[key] = count
    }
  }
  if (problems.some((p) => p.kind === 'invalid')) return { problems }

  let model = modelOf(attributes)
  if (model === undefined) {
    problems.push({ kind: 'incomplete', detail: `neither ${GEN_AI.responseModel} nor ${GEN_AI.requestModel} names the model (stored as "${UNKNOWN_MODEL}")` })
    model = UNKNOWN_MODEL
  }
  let uncached = inputIncludesCached ? uncachedInput(counts.input, counts.cacheRead, counts.cacheCreation) : counts.input
  if (uncached < 0) {
    // Only an input that leaves out the cached tokens can be below them: keep it as the uncached input.
    problems.push({
      kind: 'inconsistent',
      detail: `gen_ai.usage.input_tokens ${counts.input} is below cache_read + cache_creation (${counts.cacheRead} + ${counts.cacheCreation}); OTel's input_tokens includes cached tokens, this instrumentation's evidently does not, so it is stored as the uncached input (declare it with the processor option inputTokens: 'uncached')`,
    })
    uncached = counts.input
  }
  const usage: ModelUsage = {
    input_tokens: asTokenCount(uncached),
    output_tokens: asTokenCount(counts.output),
    cache_read_tokens: asTokenCount(counts.cacheRead),
    cache_creation_tokens: asTokenCount(counts.cacheCreation),
  }

  const rawCost = costAttribute === undefined ? undefined : attributes[costAttribute]
  if (rawCost !== undefined) {
    if (typeof rawCost === 'number' && Number.isFinite(rawCost) && rawCost >= 0) usage.cost_usd = rawCost
    else problems.push({ kind: 'invalid', detail: `${costAttribute} is ${JSON.stringify(rawCost)}, not a finite number >= 0 (USD); priced from the price table instead` })
  }
  if (usage.cost_usd === undefined) {
    const modelPrice = prices.get(model)
    if (modelPrice !== undefined) usage.cost_usd = price(modelPrice, usage)
  }
  // One span, one model: the totals are that model's usage. A computed key keeps "__proto__" a plain key.
  const record = { ...usage, models: { [model]: usage } }
  return problems.length > 0 ? { usage: record, problems } : { usage: record }
}
