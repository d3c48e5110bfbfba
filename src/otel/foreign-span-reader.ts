/**
 * Lets createTracer see OpenTelemetry's active span (src/spans/foreign-span.ts):
 * registered when `pino-sluice/otel` is imported, since only this entry may
 * load `@opentelemetry/api`.
 */
import { trace } from '@opentelemetry/api'
import { setForeignSpanReader } from '../spans/foreign-span.js'

export function readActiveOtelSpan(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan()
  if (span === undefined) return undefined
  const ctx = span.spanContext()
  // An invalid (all-zero) context means no real span is active.
  return trace.isSpanContextValid(ctx) ? ctx : undefined
}

setForeignSpanReader(readActiveOtelSpan)
