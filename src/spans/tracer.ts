import { didYouMean } from '../../sinks/shared/did-you-mean.js'
import { describe, OptionsError } from '../../sinks/shared/option-reader.js'
import { innermostSpan, noteForeignAtStart } from './foreign-span.js'
import { isSpanId, isTraceId, newTraceId } from '../../sinks/shared/ids.js'
import { readPrices, type PriceTable } from './prices.js'
import { Span, type SpanSink } from './span.js'
import { sluiceMixin, spanStorage, type SpanContext } from './span-context.js'
import type { SpanRecordFields } from '../../sinks/shared/span-record.js'
import { parseTraceparent } from './traceparent.js'
import type { UsageProblem } from './usage-input.js'
import { spanProof } from '../../sinks/shared/record-proof.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
type LevelName = (typeof LEVELS)[number]

/** The part of a pino logger the tracer uses (a pino `Logger` or child fits). */
export type TracerLogger = Record<LevelName, (object: object) => void>

export interface TracerOptions {
  /** USD per million tokens per model; prices `recordUsage` calls that give no `costUsd`. */
  prices?: PriceTable
  /** pino level of span records that ended ok (default 'info'); failed spans use 'error' so they flush at once. */
  level?: LevelName
  /**
   * `true`: `span.recordUsage` throws a `UsageError` for invalid values (for
   * tests). Default `false`: it records what is valid, counts the call
   * (`usage_invalid`) and prints each kind of problem once on stderr, so
   * telemetry never fails the request it traces.
   */
  strict?: boolean
}

const TRACER_OPTION_KEYS = ['prices', 'level', 'strict'] as const
const SPAN_OPTION_KEYS = ['attributes', 'traceparent', 'parent'] as const
/** Distinct usage problems printed per tracer; a buggy caller must not flood stderr. */
const MAX_PROBLEM_LINES = 20

/** Options of one span. Your own fields (user ids, request ids, …) go under `attributes`. */
export interface SpanOptions {
  attributes?: Record<string, unknown>
  /** An incoming W3C `traceparent` header: the span joins that trace. Invalid or absent header → a new trace. */
  traceparent?: string | null
  /** An explicit parent; `null` starts a new trace even inside another span. Default: the current span. */
  parent?: SpanContext | null
}

export interface Tracer {
  /** Runs `fn` inside a new span (current for everything `fn` awaits), ends it when `fn` settles, rethrows its error. */
  span<T>(name: string, fn: (span: Span) => T): Promise<Awaited<T>>
  span<T>(name: string, options: SpanOptions, fn: (span: Span) => T): Promise<Awaited<T>>
  /** Starts a span without making it current; call `span.end()`. Use `withSpan` to make it current. */
  startSpan(name: string, options?: SpanOptions): Span
  /** Runs `fn` with `span` as the current span (for manual spans). */
  withSpan<T>(span: Span, fn: () => T): T
  /** The span the calling code runs in, if any. */
  currentSpan(): Span | undefined
  /** The pino mixin that puts `trace_id`/`span_id` on log lines inside spans (same as `sluiceMixin`). */
  readonly mixin: typeof sluiceMixin
}

function readLevel(value: unknown): LevelName {
  if (value === undefined) return 'info'
  if (typeof value !== 'string' || !(LEVELS as readonly string[]).includes(value)) {
    throw new OptionsError(`createTracer: level must be one of ${LEVELS.map((l) => `'${l}'`).join(', ')}, got ${describe(value)}. Omit it to use the default 'info'.`)
  }
  return value as LevelName
}

/** Refuses what is not span options, pointing to `attributes` for the caller's own fields. */
function checkSpanOptions(name: string, options: unknown): SpanOptions | undefined {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`tracer: span "${name}": options must be an object { attributes, traceparent, parent }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if ((SPAN_OPTION_KEYS as readonly string[]).includes(key)) continue
    const hint = didYouMean(key, SPAN_OPTION_KEYS)
    throw new TypeError(
      `tracer: span "${name}": unknown option "${key}".${hint} Span options are ${SPAN_OPTION_KEYS.join(', ')}; ` +
        `put your own fields under attributes, e.g. { attributes: { ${JSON.stringify(key)}: … } }.`,
    )
  }
  return options as SpanOptions
}

/** Prints each kind of usage problem once per tracer, on the app thread: a Set lookup per bad call, a write per new kind. */
function usageProblemPrinter(write: (line: string) => void): (problems: readonly UsageProblem[]) => void {
  const seen = new Set<string>()
  return (problems) => {
    for (const problem of problems) {
      if (seen.has(problem.kind) || seen.size >= MAX_PROBLEM_LINES) continue
      seen.add(problem.kind)
      const more = seen.size === MAX_PROBLEM_LINES ? ' (further kinds of usage problems are not printed)' : ''
      write(
        `pino-sluice: ${problem.message}; recorded the rest of the call and counted it in usage_invalid ` +
          `(printed once; createTracer(logger, { strict: true }) throws instead)${more}\n`,
      )
    }
  }
}

/** Names each model without a price once per tracer (at most MAX_PROBLEM_LINES), so a NULL cost is not a silent one. */
function unpricedModelPrinter(write: (line: string) => void): (model: string) => void {
  const seen = new Set<string>()
  return (model) => {
    if (seen.has(model) || seen.size >= MAX_PROBLEM_LINES) return
    seen.add(model)
    write(`pino-sluice: model ${JSON.stringify(model)} is not in the prices option and the call gave no costUsd: its cost is stored NULL and sluice trace counts it as unpriced (printed once per model)\n`)
  }
}

async function runInSpan<T>(span: Span, fn: (span: Span) => T): Promise<Awaited<T>> {
  try {
    return await fn(span)
  } catch (error) {
    if (!span.isEnded) span.recordError(error)
    throw error
  } finally {
    span.end()
  }
}

/**
 * Creates a tracer that emits one span record per finished span through
 * `logger` (so spans share the logs' transport, batching and accounting).
 * Give the logger `mixin: sluiceMixin` so plain log lines inside a span
 * carry its ids.
 */
export function createTracer(logger: TracerLogger, options: TracerOptions = {}): Tracer {
  if (logger === null || typeof logger !== 'object' || typeof logger.info !== 'function') {
    throw new OptionsError(`createTracer: the first argument must be a pino logger, got ${describe(logger)}`)
  }
  if (options === null || typeof options !== 'object') throw new OptionsError(`createTracer: options must be an object, got ${describe(options)}`)
  for (const key of Object.keys(options)) {
    if (!(TRACER_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new OptionsError(`createTracer: unknown option "${key}".${didYouMean(key, TRACER_OPTION_KEYS)} Known options: ${TRACER_OPTION_KEYS.join(', ')}.`)
    }
  }
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw new OptionsError(`createTracer: strict must be true or false, got ${describe(options.strict)}. Omit it for the default false.`)
  }
  const level = readLevel(options.level)
  if (typeof logger[level] !== 'function' || typeof logger.error !== 'function') {
    throw new OptionsError(`createTracer: the logger has no ${level}() or error() method; pass a pino logger`)
  }
  const okLog = logger[level].bind(logger)
  const errorLog = logger.error.bind(logger)
  const sink: SpanSink = {
    prices: readPrices(options.prices),
    strict: options.strict === true,
    usageProblems: usageProblemPrinter((line) => process.stderr.write(line)),
    // Only an app that gave prices wants costs: without a table, NULL costs are expected, not news.
    unpriced: options.prices === undefined ? undefined : unpricedModelPrinter((line) => process.stderr.write(line)),
    emit: (record: SpanRecordFields) => {
      record.sluice_proof = spanProof(record)
      return record.status === 'ok' ? okLog(record) : errorLog(record)
    },
  }

  function startSpan(name: string, rawOptions?: SpanOptions): Span {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`tracer: a span needs a non-empty name, got ${describe(name)}`)
    const spanOptions = checkSpanOptions(name, rawOptions)
    let parent: SpanContext | undefined
    if (spanOptions?.parent !== undefined) {
      parent = spanOptions.parent ?? undefined
      if (parent !== undefined && (!isTraceId(parent.traceId) || !isSpanId(parent.spanId))) {
        throw new TypeError(`tracer: span "${name}": parent must be a span (or { traceId: 32 hex, spanId: 16 hex }), got ${describe(parent)}`)
      }
    } else if (spanOptions?.traceparent !== undefined) {
      const remote = parseTraceparent(spanOptions.traceparent)
      parent = remote && { traceId: remote.traceId, spanId: remote.spanId }
    } else {
      // Inside an OpenTelemetry span (pino-sluice/otel imported), the new span joins its trace as a child.
      parent = innermostSpan(spanStorage.getStore())
    }
    const span = new Span(sink, name, parent?.traceId ?? newTraceId(), parent?.spanId, spanOptions?.attributes)
    noteForeignAtStart(span)
    return span
  }

  function span<T>(name: string, optionsOrFn: SpanOptions | ((span: Span) => T), maybeFn?: (span: Span) => T): Promise<Awaited<T>> {
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn
    if (typeof fn !== 'function') throw new TypeError(`tracer.span("${String(name)}"): the last argument must be the function to run inside the span`)
    const started = startSpan(name, typeof optionsOrFn === 'function' ? undefined : optionsOrFn)
    return spanStorage.run(started, runInSpan, started, fn)
  }

  return {
    span,
    startSpan,
    withSpan: (target, fn) => spanStorage.run(target, fn),
    currentSpan: () => {
      const current = spanStorage.getStore()
      return current instanceof Span ? current : undefined
    },
    mixin: sluiceMixin,
  }
}
