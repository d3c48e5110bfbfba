import { describe, OptionsError } from '../../sinks/shared/option-reader.js'
import { countDiscardedSpan } from './discard-counter.js'
import { flushLogger, type FlushableLogger } from './flush-logger.js'
import type { UsageProblemKind } from './gen-ai-usage.js'
import { toOtelSpanRecord, type MappingContext } from './otel-span-record.js'
import { resolveProcessorOptions, type LevelName, type ResolvedProcessorOptions, type SluiceSpanProcessorOptions } from './processor-options.js'
import type { Attributes, ReadableSpanLike } from './readable-span.js'
import { spanProof } from '../../sinks/shared/record-proof.js'

/** The part of a pino logger the processor uses (a pino `Logger` or child fits), like `createTracer`'s. */
export type ProcessorLogger = Record<LevelName, (object: object) => void> & FlushableLogger & { isLevelEnabled?: (level: string) => boolean }

/** What the processor did on the app thread; what the transport did with the records is in its own counters. */
export interface SluiceSpanProcessorStats {
  /** Span records handed to the logger (each then counts as received by the transport). */
  spans: number
  /** Of those, spans with GenAI usage in the token columns. */
  usageSpans: number
  /** Spans whose usage attributes had a problem (see docs/opentelemetry.md), by kind. */
  usageInvalid: number
  usageInconsistent: number
  usageIncomplete: number
  /** GenAI spans whose model has no price and that carried no cost attribute: stored with cost_usd NULL, left out of trace totals. */
  unpricedSpans: number
  /** Spans ended while the logger's level was above the processor's `level`: pino filtered their records out (transport counter `dropped_span_level`). */
  levelFiltered: number
  /**
   * Spans that ended after shutdown(): still written (a server draining after
   * the provider's shutdown loses none); once the sluice is closed its
   * transport counts them `dropped_closed`, like any late line.
   */
  afterShutdown: number
  /** Spans the logger threw on (e.g. its stream was destroyed): not recorded (transport counter `dropped_span_error`). */
  emitErrors: number
}

const STAT_OF_PROBLEM: Record<UsageProblemKind, 'usageInvalid' | 'usageInconsistent' | 'usageIncomplete'> = {
  invalid: 'usageInvalid',
  inconsistent: 'usageInconsistent',
  incomplete: 'usageIncomplete',
}

/**
 * An OpenTelemetry span processor that writes each finished span as one
 * pino-sluice span record through `logger`, the pino logger that writes
 * through pino-sluice (the argument `createTracer` takes):
 *
 * ```js
 * const provider = new NodeTracerProvider({ spanProcessors: [new SluiceSpanProcessor(logger)] })
 * ```
 *
 * There is no queue of its own: the record takes the logs' path (channel,
 * batching, offload, accounting), so a span that does not fit is dropped and
 * counted like any log line. Runs on the app thread in `onEnd`: never throws
 * there; problems are counted in `stats()` and reported once on stderr.
 */
export class SluiceSpanProcessor {
  private readonly options: ResolvedProcessorOptions
  private readonly okLog: (object: object) => void
  private readonly errorLog: (object: object) => void
  private readonly context: MappingContext
  private readonly counts: SluiceSpanProcessorStats = {
    spans: 0,
    usageSpans: 0,
    usageInvalid: 0,
    usageInconsistent: 0,
    usageIncomplete: 0,
    unpricedSpans: 0,
    levelFiltered: 0,
    afterShutdown: 0,
    emitErrors: 0,
  }
  private readonly reported = new Set<string>()
  private shuttingDown: Promise<void> | undefined

  constructor(
    private readonly logger: ProcessorLogger,
    options?: SluiceSpanProcessorOptions,
  ) {
    if (logger === null || typeof logger !== 'object' || typeof logger.info !== 'function') {
      throw new OptionsError(`SluiceSpanProcessor: the first argument must be the pino logger that writes through pino-sluice, got ${describe(logger)}`)
    }
    this.options = resolveProcessorOptions(options)
    const level = this.options.level
    if (typeof logger[level] !== 'function' || typeof logger.error !== 'function') {
      throw new OptionsError(`SluiceSpanProcessor: the logger has no ${level}() or error() method; pass a pino logger`)
    }
    this.okLog = logger[level].bind(logger)
    this.errorLog = logger.error.bind(logger)
    const resources = new WeakMap<object, Record<string, unknown>>()
    const keep = this.options.resourceAttributes
    this.context = {
      prices: this.options.prices,
      inputIncludesCached: this.options.inputTokens === 'includes-cached',
      costAttribute: this.options.costAttribute,
      // A provider has one resource: it is filtered once, then the same object goes into every record.
      resourceOf(resource: { readonly attributes: Attributes }) {
        let stored = resources.get(resource)
        if (stored === undefined) {
          stored = {}
          for (const [key, value] of Object.entries(resource.attributes)) if (keep === 'all' || keep.has(key)) stored[key] = value
          resources.set(resource, stored)
        }
        return stored
      },
    }
  }

  onStart(_span: unknown, _parentContext: unknown): void {}

  onEnd(span: ReadableSpanLike): void {
    // Still recorded: a span that ends while the app drains must reach the transport, which counts it if it is closed.
    if (this.shuttingDown !== undefined) this.counts.afterShutdown++
    try {
      const { record, problems } = toOtelSpanRecord(span, this.context)
      if (record.usage !== undefined) {
        this.counts.usageSpans++
        if (record.usage.cost_usd === undefined) this.noteUnpriced(Object.keys(record.usage.models ?? {})[0] ?? '?')
      }
      if (problems !== undefined) {
        for (const problem of problems) {
          this.counts[STAT_OF_PROBLEM[problem.kind]]++
          this.reportOnce(`usage-${problem.kind}`, `span "${span.name}": ${problem.detail} (reported once per kind; counted in stats())`)
        }
      }
      const level = record.status === 'ok' ? this.options.level : 'error'
      // pino drops a record below the logger's level without a word: say so once, count each.
      if (this.logger.isLevelEnabled !== undefined && !this.logger.isLevelEnabled(level)) {
        this.counts.levelFiltered++
        countDiscardedSpan(this.logger, 'span_level')
        this.reportOnce('level', `span records are written at level '${level}', below the logger's level, so pino filters them out; lower the logger's level or set the processor's level option`)
        return
      }
      record.sluice_proof = spanProof(record)
      if (record.status === 'ok') this.okLog(record)
      else this.errorLog(record)
      this.counts.spans++
    } catch (error) {
      this.counts.emitErrors++
      countDiscardedSpan(this.logger, 'span_error')
      this.reportOnce('emit', `could not write span "${String(span?.name)}" through the logger: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  /** Resolves once every span ended so far is settled with the transport (committed, or counted as dropped/failed); rejects after flushTimeoutMs. */
  forceFlush(): Promise<void> {
    return flushLogger(this.logger, this.options.flushTimeoutMs, this.options.flush)
  }

  /**
   * Flushes. Spans that end later are still written while the transport
   * accepts them (a draining server's spans are not lost), and counted as
   * `dropped_closed` by the transport once it is closed. The logger and its
   * transport belong to the app: close them last (docs/opentelemetry.md#shutting-down-without-losing-spans).
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= this.forceFlush()
    return this.shuttingDown
  }

  stats(): SluiceSpanProcessorStats {
    return { ...this.counts }
  }

  /**
   * A cost stored NULL is easy to miss in a sum: count it, and with a price
   * table (an app that wants costs) name each model missing from it once.
   */
  private noteUnpriced(model: string): void {
    this.counts.unpricedSpans++
    if (this.context.prices.size === 0) return
    this.reportOnce(`unpriced:${model}`, `model "${model}" is not in the prices option and its span carried no ${this.options.costAttribute ?? 'cost attribute'}: cost_usd is stored NULL and sluice trace counts it as unpriced (reported once per model; counted in stats().unpricedSpans)`)
  }

  private reportOnce(kind: string, message: string): void {
    if (this.reported.has(kind)) return
    this.reported.add(kind)
    process.stderr.write(`pino-sluice/otel: ${message}\n`)
  }
}
