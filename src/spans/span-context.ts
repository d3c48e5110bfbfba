import { AsyncLocalStorage } from 'node:async_hooks'
import { innermostSpan } from './foreign-span.js'

/** What a child span or a log line needs from the span it runs in. */
export interface SpanContext {
  readonly traceId: string
  readonly spanId: string
}

/**
 * The span the current async flow runs in. One storage for the whole
 * process, so every tracer and `sluiceMixin` agree on the current span.
 */
export const spanStorage = new AsyncLocalStorage<SpanContext>()

/**
 * A pino `mixin`: adds `trace_id` and `span_id` of the current span to every
 * log line written inside it (they land in the logs table's columns). With
 * `pino-sluice/otel` imported, the current span is the innermost of ours and
 * the active OpenTelemetry span (src/spans/foreign-span.ts).
 *
 * ```js
 * const logger = pino({ mixin: sluiceMixin }, transport)
 * ```
 *
 * Returns a fresh object every time: pino's default merge strategy assigns
 * the log call's fields into it.
 */
export function sluiceMixin(): Record<string, string> {
  const span = innermostSpan(spanStorage.getStore())
  return span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId }
}
