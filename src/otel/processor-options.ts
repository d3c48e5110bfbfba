import { describe, OptionsError } from '../../sinks/shared/option-reader.js'
import { readPrices, type PriceTable, type ResolvedPrice } from '../spans/prices.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
export type LevelName = (typeof LEVELS)[number]

export interface SluiceSpanProcessorOptions {
  /** USD per million tokens per model (the same table `createTracer` takes); prices GenAI spans that carry no cost attribute. */
  prices?: PriceTable
  /** The attribute an instrumentation puts a span's cost in, in USD. Default 'gen_ai.usage.cost'; `null` ignores any. */
  costAttribute?: string | null
  /**
   * What the instrumentation's `gen_ai.usage.input_tokens` counts:
   * `'includes-cached'` (the OTel convention, and OpenAI's `prompt_tokens`;
   * the default: cache reads and writes are subtracted to store the uncached
   * input) or `'uncached'` (Anthropic's `input_tokens`, as some
   * instrumentations copy it: stored as given).
   */
  inputTokens?: 'includes-cached' | 'uncached'
  /** pino level of span records that ended ok (default 'info'); failed spans use 'error' so they flush at once. */
  level?: LevelName
  /**
   * Which resource attributes every span row keeps in `data.otel.resource`:
   * 'all' (default) or a list of keys, such as ['service.name', 'service.version'],
   * to keep rows small when the resource detectors add many.
   */
  resourceAttributes?: 'all' | readonly string[]
  /**
   * How long forceFlush() and shutdown() wait for the logger's transport to
   * settle, in ms. Default 5000, the transport's default exit budget
   * (`exit.budgetMs`); keep it at or under what your shutdown allows.
   */
  flushTimeoutMs?: number
  /**
   * How to settle the transport, when the logger's own destination cannot
   * say: e.g. `flush: sluice.flush` with createSluice(). Default: flush the
   * logger's destination (pino.transport(), or each destination of a pino.multistream).
   */
  flush?: () => Promise<unknown>
}

export interface ResolvedProcessorOptions {
  readonly prices: ReadonlyMap<string, ResolvedPrice>
  readonly costAttribute: string | undefined
  readonly inputTokens: 'includes-cached' | 'uncached'
  readonly level: LevelName
  readonly resourceAttributes: 'all' | ReadonlySet<string>
  readonly flushTimeoutMs: number
  readonly flush: (() => Promise<unknown>) | undefined
}

const KEYS = ['prices', 'costAttribute', 'inputTokens', 'level', 'resourceAttributes', 'flushTimeoutMs', 'flush']
const WHERE = 'SluiceSpanProcessor'

export function resolveProcessorOptions(raw: unknown): ResolvedProcessorOptions {
  if (raw === undefined) raw = {}
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new OptionsError(`${WHERE}: options must be an object, got ${describe(raw)}`)
  const options = raw as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new OptionsError(`${WHERE}: unknown option "${key}". Known options: ${KEYS.join(', ')}.`)
  }
  let prices: ReadonlyMap<string, ResolvedPrice>
  try {
    prices = readPrices(options.prices)
  } catch (error) {
    // readPrices names createTracer, whose price table this is; say which constructor got it.
    if (error instanceof OptionsError) throw new OptionsError(error.message.replace(/^createTracer: /, `${WHERE}: `))
    throw error
  }

  const { costAttribute, inputTokens, level, resourceAttributes, flushTimeoutMs, flush } = options
  if (inputTokens !== undefined && inputTokens !== 'includes-cached' && inputTokens !== 'uncached') {
    throw new OptionsError(`${WHERE}: inputTokens must be 'includes-cached' (OTel's convention, OpenAI's prompt_tokens) or 'uncached' (Anthropic's input_tokens), got ${describe(inputTokens)}. Omit it for 'includes-cached'.`)
  }
  if (costAttribute !== undefined && costAttribute !== null && (typeof costAttribute !== 'string' || costAttribute.length === 0)) {
    throw new OptionsError(`${WHERE}: costAttribute must be a non-empty attribute name or null, got ${describe(costAttribute)}. Omit it to read 'gen_ai.usage.cost'.`)
  }
  if (level !== undefined && (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level))) {
    throw new OptionsError(`${WHERE}: level must be one of ${LEVELS.map((l) => `'${l}'`).join(', ')}, got ${describe(level)}. Omit it to use 'info'.`)
  }
  let resource: 'all' | ReadonlySet<string> = 'all'
  if (resourceAttributes !== undefined && resourceAttributes !== 'all') {
    if (!Array.isArray(resourceAttributes) || !resourceAttributes.every((k) => typeof k === 'string' && k.length > 0)) {
      throw new OptionsError(`${WHERE}: resourceAttributes must be 'all' or an array of attribute names such as ['service.name'], got ${describe(resourceAttributes)}`)
    }
    resource = new Set(resourceAttributes as string[])
  }
  if (flushTimeoutMs !== undefined && (typeof flushTimeoutMs !== 'number' || !Number.isInteger(flushTimeoutMs) || flushTimeoutMs < 1 || flushTimeoutMs > 60_000)) {
    throw new OptionsError(`${WHERE}: flushTimeoutMs must be an integer between 1 and 60000 (ms), got ${describe(flushTimeoutMs)}. Omit it to use 5000, the transport's default exit budget.`)
  }
  if (flush !== undefined && typeof flush !== 'function') {
    throw new OptionsError(`${WHERE}: flush must be a function returning a promise (e.g. sluice.flush), got ${describe(flush)}`)
  }
  return Object.freeze({
    prices,
    costAttribute: costAttribute === null ? undefined : (costAttribute ?? 'gen_ai.usage.cost'),
    inputTokens: (inputTokens as 'includes-cached' | 'uncached' | undefined) ?? 'includes-cached',
    level: (level ?? 'info') as LevelName,
    resourceAttributes: resource,
    flushTimeoutMs: flushTimeoutMs ?? 5000,
    flush: flush as (() => Promise<unknown>) | undefined,
  })
}
