import { describe } from '../options/option-reader.js'
import { epochFromMark } from './clock.js'
import { newSpanId } from './ids.js'
import { priceUsage, type ModelPrice } from './prices.js'
import type { SpanContext } from './span-context.js'
import type { SpanEvent, SpanRecordFields } from './span-record.js'
import { formatTraceparent } from './traceparent.js'
import { readUsage, type UsageInput } from './usage-input.js'
import { UsageTotals } from './usage-totals.js'

/** What a span needs from its tracer: where to send the record, and prices. */
export interface SpanSink {
  emit(record: SpanRecordFields): void
  readonly prices: ReadonlyMap<string, ModelPrice>
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
  readonly spanId = newSpanId()
  private readonly startMark = performance.now()
  /** Epoch ms with microseconds, on the wall clock like pino's `time` (see clock.ts). */
  readonly startTime = Math.round(epochFromMark(this.startMark) * 1000) / 1000
  private attributes: Record<string, unknown> | undefined
  private events: SpanEvent[] | undefined
  private usage: UsageTotals | undefined
  private payload: SpanPayload | undefined
  private error: { type: string; message: string } | undefined
  private ended = false

  constructor(
    private readonly sink: SpanSink,
    readonly name: string,
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
   * Adds the token usage of one model call; call it once per call. Throws a
   * `UsageError` (and records nothing) for values that cannot be stored exactly.
   */
  recordUsage(usage: UsageInput): this {
    this.checkOpen('recordUsage')
    const valid = readUsage(usage)
    const price = valid.costUsd === undefined ? this.sink.prices.get(valid.model) : undefined
    const cost = valid.costUsd ?? (price ? priceUsage(price, valid) : undefined)
    ;(this.usage ??= new UsageTotals()).add(valid, cost)
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
    this.sink.emit(record)
  }

  private checkOpen(method: string): void {
    if (this.ended) throw new Error(`span "${this.name}": ${method}() after end(); the span record was already emitted`)
  }
}
