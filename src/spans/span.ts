import { describe } from '../../sinks/shared/option-reader.js'
import { epochFromMark } from './clock.js'
import { newSpanId } from '../../sinks/shared/ids.js'
import { priceUsage, type ResolvedPrice } from './prices.js'
import type { SpanContext } from './span-context.js'
import type { SpanEvent, SpanRecordFields } from '../../sinks/shared/span-record.js'
import { formatTraceparent } from './traceparent.js'
import { readUsage, UsageError, type UsageInput, type UsageProblem } from './usage-input.js'
import { UsageTotals } from './usage-totals.js'

/** What a span needs from its tracer: where to send the record, prices, and what to do with bad usage. */
export interface SpanSink {
  emit(record: SpanRecordFields): void
  readonly prices: ReadonlyMap<string, ResolvedPrice>
  /** Throw a `UsageError` for bad usage instead of recording what is valid (tests). */
  readonly strict: boolean
  /** Told about the problems of one lenient `recordUsage` call (prints each kind once). */
  usageProblems(problems: readonly UsageProblem[]): void
  /** Told about a call whose model has no price and that gave no costUsd (its cost is stored NULL). */
  unpriced?(model: string): void
}

export interface SpanPayload {
  input?: unknown
  output?: unknown
}

function errorOf(error: unknown): { type: string; message: string } {
  if (error instanceof Error) return { type: error.name || error.constructor.name || 'Error', message: error.message }
  return { type: typeof error, message: String(error) }
}

function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${what} must be a plain object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/**
 * One unit of work. Collects attributes, events, payload and model usage,
 * and on `end()` emits exactly one span record through the tracer's logger.
 */
export class Span implements SpanContext {
  /** 16 hex characters: the `span_id` column and log lines' `span_id`. */
  readonly spanId = newSpanId()
  private readonly startMark = performance.now()
  /** Epoch ms with microseconds, on the wall clock like pino's `time` (see clock.ts). */
  readonly startTime = Math.round(epochFromMark(this.startMark) * 1000) / 1000
  private attributes: Record<string, unknown> | undefined
  private events: SpanEvent[] | undefined
  private usage: UsageTotals | undefined
  private payload: SpanPayload | undefined
  private error: { type: string; message: string } | undefined
  private usageInvalid = 0
  private ended = false

  constructor(
    private readonly sink: SpanSink,
    readonly name: string,
    /** 32 hex characters: the `trace_id` column, what `sluice trace <id>` takes (e.g. return it in a response header). */
    readonly traceId: string,
    readonly parentSpanId: string | undefined,
    attributes: Record<string, unknown> | undefined,
  ) {
    if (attributes !== undefined) this.attributes = { ...checkObject(attributes, `span "${name}": attributes`) }
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** Merged into the span's attributes (a later value replaces an earlier one). */
  setAttributes(attributes: Record<string, unknown>): this {
    this.checkOpen('setAttributes')
    Object.assign((this.attributes ??= {}), checkObject(attributes, `span "${this.name}": setAttributes`))
    return this
  }

  addEvent(name: string, attributes?: Record<string, unknown>): this {
    this.checkOpen('addEvent')
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`span "${this.name}": addEvent needs a non-empty name, got ${describe(name)}`)
    const event: SpanEvent = { name, time: Date.now() }
    if (attributes !== undefined) event.attributes = checkObject(attributes, `span "${this.name}": addEvent attributes`)
    ;(this.events ??= []).push(event)
    return this
  }

  /** Large input/output of the work (prompts, completions); stored in the `payload` field, which the S3 stage offloads when big. */
  setPayload(payload: SpanPayload): this {
    this.checkOpen('setPayload')
    const fields = checkObject(payload, `span "${this.name}": setPayload`)
    for (const key of Object.keys(fields)) {
      if (key !== 'input' && key !== 'output') throw new TypeError(`span "${this.name}": setPayload takes { input, output }, got an unknown key "${key}"`)
    }
    this.payload = { ...this.payload, ...fields }
    return this
  }

  /**
   * Adds the token usage of one model call; call it once per call. Never
   * throws for bad values (telemetry must not fail the request it traces):
   * it records what is valid (a bad count as 0, a bad model as "unknown", a
   * bad cost as absent), counts the call in the span record's `usage_invalid`
   * (the worker adds it to the `usage_invalid` counter) and prints each kind
   * of problem once on stderr. A tracer created with `strict: true` throws a
   * `UsageError` instead and records nothing.
   */
  recordUsage(usage: UsageInput): this {
    this.checkOpen('recordUsage')
    const reading = readUsage(usage)
    let problems = reading.problems
    if (problems.length > 0 && this.sink.strict) throw new UsageError((problems[0] as UsageProblem).message)
    const valid = reading.usage
    if (valid !== undefined) {
      const price = valid.costUsd === undefined ? this.sink.prices.get(valid.model) : undefined
      const cost = valid.costUsd ?? (price ? priceUsage(price, valid) : undefined)
      if (cost === undefined) this.sink.unpriced?.(valid.model)
      const overflow = (this.usage ??= new UsageTotals()).add(valid, cost)
      if (overflow !== undefined) {
        if (this.sink.strict) throw new UsageError(overflow.message)
        problems = [...problems, overflow]
      }
    }
    if (problems.length > 0) {
      this.usageInvalid++
      this.sink.usageProblems(problems)
    }
    return this
  }

  /** Marks the span failed with the error's type and message (`tracer.span` does this when the callback throws). */
  recordError(error: unknown): this {
    this.checkOpen('recordError')
    this.error = errorOf(error)
    return this
  }

  /** The `traceparent` header to send downstream so the callee joins this trace as a child of this span. */
  traceparent(): string {
    return formatTraceparent(this.traceId, this.spanId)
  }

  /** Emits the span record. Later calls do nothing, so a manual `end()` inside `tracer.span` is harmless. */
  end(): void {
    if (this.ended) return
    this.ended = true
    const durationMs = Math.round((performance.now() - this.startMark) * 1000) / 1000
    const record: SpanRecordFields = {
      sluice: 'span',
      trace_id: this.traceId,
      span_id: this.spanId,
      name: this.name,
      start_time: this.startTime,
      end_time: Math.round((this.startTime + durationMs) * 1000) / 1000,
      duration_ms: durationMs,
      status: this.error === undefined ? 'ok' : 'error',
    }
    if (this.parentSpanId !== undefined) record.parent_span_id = this.parentSpanId
    if (this.error !== undefined) record.error = this.error
    if (this.attributes !== undefined) record.attributes = this.attributes
    if (this.events !== undefined) record.events = this.events
    if (this.usage !== undefined) record.usage = this.usage.toRecord()
    if (this.payload !== undefined) record.payload = this.payload
    if (this.usageInvalid > 0) record.usage_invalid = this.usageInvalid
    this.sink.emit(record)
  }

  private checkOpen(method: string): void {
    if (this.ended) throw new Error(`span "${this.name}": ${method}() after end(); the span record was already emitted`)
  }
}
