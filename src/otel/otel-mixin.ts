import { trace } from '@opentelemetry/api'
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
  if (span === undefined) return {}
  const ctx = span.spanContext()
  // An invalid (all-zero) context means no real span is active.
  if (!trace.isSpanContextValid(ctx)) return {}
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: traceFlagsHex(ctx.traceFlags) }
}
