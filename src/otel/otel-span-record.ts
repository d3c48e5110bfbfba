import type { ResolvedPrice } from '../spans/prices.js'
import type { SpanEvent, SpanRecordFields } from '../../sinks/shared/span-record.js'
import { readGenAiUsage, type UsageProblem } from './gen-ai-usage.js'
import type { Attributes, HrTime, OtelLink, OtelScope, ReadableSpanLike } from './readable-span.js'

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const
const STATUS_ERROR = 2

/** Attributes that hold a GenAI call's content: moved to `payload` (which the S3 stage offloads when big). */
const PAYLOAD_INPUT = 'gen_ai.input.messages'
const PAYLOAD_OUTPUT = 'gen_ai.output.messages'

/** OTel fields without a column of their own; stored under `data.otel`. */
export interface OtelFields {
  kind: (typeof KINDS)[number] | number
  /** Set only for a parent that came from another process (a `traceparent` header). */
  parent_remote?: true
  status_code: (typeof STATUS_CODES)[number] | number
  status_message?: string
  trace_state?: string
  scope: { name: string; version?: string; schema_url?: string }
  resource: Record<string, unknown>
  links?: { trace_id: string; span_id: string; trace_flags: string; trace_state?: string; attributes?: Attributes }[]
  dropped?: { attributes?: number; events?: number; links?: number }
  usage_problems?: string[]
}

export type OtelSpanRecord = SpanRecordFields & {
  /** W3C trace flags as two hex digits, the same field and format `@opentelemetry/instrumentation-pino` puts on log lines. */
  trace_flags: string
  otel: OtelFields
}

export interface MappingContext {
  readonly prices: ReadonlyMap<string, ResolvedPrice>
  readonly costAttribute: string | undefined
  /** Whether the instrumentation's input_tokens includes the cached tokens (OTel's convention). */
  readonly inputIncludesCached: boolean
  /** The resource as stored; the processor keeps one per resource object. */
  resourceOf(resource: { readonly attributes: Attributes; readonly asyncAttributesPending?: boolean }): Record<string, unknown>
}

/** Epoch ms with microseconds, like the built-in tracer's times (rounded, not truncated, at the µs). */
export function hrTimeToMs([seconds, nanos]: HrTime): number {
  return seconds * 1000 + Math.round(nanos / 1000) / 1000
}

export function traceFlagsHex(flags: number): string {
  // Sampled or not: the only flags in use today, without a string built per span.
  if (flags === 1) return '01'
  if (flags === 0) return '00'
  return (flags & 0xff).toString(16).padStart(2, '0')
}

/** Whether an object has an own key, without building the key array. */
function hasKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true
  return false
}

function toEvent(event: { name: string; time: HrTime; attributes?: Attributes; droppedAttributesCount?: number }): SpanEvent {
  const out: SpanEvent & { dropped_attributes_count?: number } = { name: event.name, time: hrTimeToMs(event.time) }
  if (event.attributes !== undefined && hasKeys(event.attributes)) out.attributes = event.attributes
  if (event.droppedAttributesCount) out.dropped_attributes_count = event.droppedAttributesCount
  return out
}

function toLink(link: OtelLink): NonNullable<OtelFields['links']>[number] {
  const ctx = link.context
  const out: NonNullable<OtelFields['links']>[number] = { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: traceFlagsHex(ctx.traceFlags) }
  const state = ctx.traceState?.serialize()
  if (state) out.trace_state = state
  if (link.attributes !== undefined && hasKeys(link.attributes)) out.attributes = link.attributes
  return out
}

function scopeOf(scope: OtelScope | undefined): OtelFields['scope'] {
  if (scope === undefined) return { name: '' }
  const out: OtelFields['scope'] = { name: scope.name }
  if (scope.version) out.version = scope.version
  if (scope.schemaUrl) out.schema_url = scope.schemaUrl
  return out
}

/** The exception event the SDK's `recordException` adds; the last one is the error that ended the span. */
function lastException(span: ReadableSpanLike): Attributes | undefined {
  for (let i = span.events.length - 1; i >= 0; i--) {
    const event = span.events[i]
    if (event?.name === 'exception') return event.attributes ?? {}
  }
  return undefined
}

function errorOf(span: ReadableSpanLike): { type: string; message: string } {
  const exception = lastException(span)
  const type = exception?.['exception.type']
  const message = exception?.['exception.message']
  return {
    type: typeof type === 'string' && type !== '' ? type : 'Error',
    // The status description is what the instrumentation chose to say; the exception's message when it said nothing.
    message: span.status.message ? span.status.message : typeof message === 'string' ? message : '',
  }
}

function withoutPayload(attributes: Attributes): Attributes {
  const rest: Record<string, unknown> = {}
  for (const key of Object.keys(attributes)) if (key !== PAYLOAD_INPUT && key !== PAYLOAD_OUTPUT) rest[key] = attributes[key]
  return rest as Attributes
}

/**
 * Maps a finished OTel span to the span record the built-in tracer emits
 * (see sinks/shared/span-record.ts), so the worker stores it in the same spans
 * table; fields with no column go to `otel` (stored in `data`). Returns the
 * usage problems found, for the processor to count.
 */
export function toOtelSpanRecord(span: ReadableSpanLike, context: MappingContext): { record: OtelSpanRecord; problems?: UsageProblem[] } {
  const ctx = span.spanContext()
  const parent = span.parentSpanContext
  const parentSpanId = parent?.spanId ?? span.parentSpanId
  const failed = span.status.code === STATUS_ERROR
  const otel: OtelFields = {
    kind: KINDS[span.kind] ?? span.kind,
    status_code: STATUS_CODES[span.status.code] ?? span.status.code,
    scope: scopeOf(span.instrumentationScope ?? span.instrumentationLibrary),
    resource: context.resourceOf(span.resource),
  }
  if (parent?.isRemote) otel.parent_remote = true
  if (span.status.message) otel.status_message = span.status.message
  const state = ctx.traceState?.serialize()
  if (state) otel.trace_state = state
  if (span.links.length > 0) otel.links = span.links.map(toLink)
  if (span.droppedAttributesCount || span.droppedEventsCount || span.droppedLinksCount) {
    otel.dropped = {}
    if (span.droppedAttributesCount) otel.dropped.attributes = span.droppedAttributesCount
    if (span.droppedEventsCount) otel.dropped.events = span.droppedEventsCount
    if (span.droppedLinksCount) otel.dropped.links = span.droppedLinksCount
  }

  const record: OtelSpanRecord = {
    sluice: 'span',
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    name: span.name,
    start_time: hrTimeToMs(span.startTime),
    end_time: hrTimeToMs(span.endTime),
    duration_ms: hrTimeToMs(span.duration),
    status: failed ? 'error' : 'ok',
    trace_flags: traceFlagsHex(ctx.traceFlags),
    otel,
  }
  if (parentSpanId) record.parent_span_id = parentSpanId
  if (failed) record.error = errorOf(span)

  const attributes = span.attributes
  const input = attributes[PAYLOAD_INPUT]
  const output = attributes[PAYLOAD_OUTPUT]
  if (input !== undefined || output !== undefined) {
    record.payload = {}
    if (input !== undefined) record.payload.input = input
    if (output !== undefined) record.payload.output = output
    record.attributes = withoutPayload(attributes)
  } else if (hasKeys(attributes)) {
    // The SDK does not change a span's attributes after it ended: no copy needed.
    record.attributes = attributes
  }
  if (span.events.length > 0) record.events = span.events.map(toEvent)

  const reading = readGenAiUsage(attributes, context.prices, context.costAttribute, context.inputIncludesCached)
  if (reading?.usage !== undefined) record.usage = reading.usage
  if (reading?.problems !== undefined) {
    otel.usage_problems = reading.problems.map((p) => `${p.kind}: ${p.detail}`)
    // Like a lenient recordUsage call with problems: the worker adds it to the transport's usage_invalid counter.
    record.usage_invalid = 1
    return { record, problems: reading.problems }
  }
  return { record }
}
