import { trace } from '@opentelemetry/api'
import { innermostSpan } from '../spans/foreign-span.js'
import { spanStorage } from '../spans/span-context.js'
import { traceFlagsHex } from './otel-span-record.js'

/**
 * A pino `mixin` for apps that do not use `@opentelemetry/instrumentation-pino`:
 * adds the active OTel span's `trace_id`, `span_id` and `trace_flags` to every
 * log line written inside it, with the same field names that instrumentation
 * uses. `trace_id`/`span_id` land in the logs table's columns, `trace_flags`
 * in `data`.
 *
 * ```js
 * const logger = pino({ mixin: otelMixin }, transport)
 * ```
 */
export function otelMixin(): Record<string, string> {
  const span = trace.getActiveSpan()
  const ctx = span?.spanContext()
  const otel = ctx !== undefined && trace.isSpanContextValid(ctx) ? ctx : undefined
  // A createTracer span started inside the OTel span is the inner one: its ids win.
  const inner = innermostSpan(spanStorage.getStore())
  if (inner !== undefined && inner !== otel && inner.spanId !== otel?.spanId) return { trace_id: inner.traceId, span_id: inner.spanId }
  if (otel === undefined) return {}
  return { trace_id: otel.traceId, span_id: otel.spanId, trace_flags: traceFlagsHex(otel.traceFlags) }
}
