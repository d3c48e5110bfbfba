/**
 * The part of an OpenTelemetry SDK `ReadableSpan` the processor reads, typed
 * here instead of imported, so `pino-sluice/otel` loads no SDK module at run
 * time and its types fit any SDK copy the app has. SDK 2.x names the parent
 * `parentSpanContext` and the scope `instrumentationScope`; 1.x named them
 * `parentSpanId` and `instrumentationLibrary`: both are read.
 */

/** [seconds, nanoseconds] since the epoch (or, for a duration, elapsed). */
export type HrTime = [number, number]

/**
 * api 1.10 widened an attribute's value to `unknown` (AnyValue: maps, byte arrays, nested
 * arrays); 1.9 and earlier allowed primitives and arrays of them. Typed as the wider one so a
 * span of either SDK line fits; the values are read as what they are (JSON-encoded as is).
 */
export type AttributeValue = unknown
export type Attributes = Readonly<Record<string, AttributeValue>>

export interface OtelSpanContext {
  readonly traceId: string
  readonly spanId: string
  readonly traceFlags: number
  readonly isRemote?: boolean
  /** A `TraceState`; its `serialize()` gives the W3C `tracestate` header. */
  readonly traceState?: { serialize(): string }
}

export interface OtelLink {
  readonly context: OtelSpanContext
  readonly attributes?: Attributes
  readonly droppedAttributesCount?: number
}

export interface OtelEvent {
  readonly name: string
  readonly time: HrTime
  readonly attributes?: Attributes
  readonly droppedAttributesCount?: number
}

export interface OtelScope {
  readonly name: string
  readonly version?: string
  readonly schemaUrl?: string
}

export interface ReadableSpanLike {
  readonly name: string
  /** SpanKind: 0 INTERNAL, 1 SERVER, 2 CLIENT, 3 PRODUCER, 4 CONSUMER. */
  readonly kind: number
  spanContext(): OtelSpanContext
  readonly parentSpanContext?: OtelSpanContext
  /** SDK 1.x. */
  readonly parentSpanId?: string
  readonly startTime: HrTime
  readonly endTime: HrTime
  readonly duration: HrTime
  /** SpanStatusCode: 0 UNSET, 1 OK, 2 ERROR. */
  readonly status: { readonly code: number; readonly message?: string }
  readonly attributes: Attributes
  readonly links: readonly OtelLink[]
  readonly events: readonly OtelEvent[]
  /** `asyncAttributesPending` is true while async resource detectors have not settled. */
  readonly resource: { readonly attributes: Attributes; readonly asyncAttributesPending?: boolean }
  readonly instrumentationScope?: OtelScope
  /** SDK 1.x. */
  readonly instrumentationLibrary?: OtelScope
  readonly droppedAttributesCount?: number
  readonly droppedEventsCount?: number
  readonly droppedLinksCount?: number
}
