/**
 * Mixing tracers: a createTracer span started inside an OpenTelemetry span
 * joins that trace as its child, and log lines carry the ids of the
 * innermost of the two. The main entry loads no OpenTelemetry module, so
 * `pino-sluice/otel` registers how to read the active OTel span when it is
 * imported (src/otel/foreign-span-reader.ts); without it, OTel spans are
 * invisible here.
 *
 * Which is innermost: our current span, unless the active OTel span differs
 * from the one that was active when ours started (then the OTel span started
 * inside ours). OTel spans started inside ours cannot see ours (OTel's
 * context does not hold it), so they stay children of the enclosing OTel span.
 */
import type { SpanContext } from './span-context.js'

type ForeignSpanReader = () => SpanContext | undefined

let readForeign: ForeignSpanReader | undefined
/** The foreign span active when each of our spans started (undefined: none). */
const foreignAtStart = new WeakMap<object, string | undefined>()

export function setForeignSpanReader(reader: ForeignSpanReader | undefined): void {
  readForeign = reader
}

/** Called as our span starts, so later lookups can tell which span is inner. */
export function noteForeignAtStart(span: object): void {
  if (readForeign !== undefined) foreignAtStart.set(span, readForeign()?.spanId)
}

/** The innermost current span of either tracer, given ours: the parent of a new span, the ids of a log line. */
export function innermostSpan(ours: SpanContext | undefined): SpanContext | undefined {
  if (readForeign === undefined) return ours
  const foreign = readForeign()
  if (ours === undefined || foreign === undefined) return ours ?? foreign
  if (!foreignAtStart.has(ours)) return ours
  return foreign.spanId === foreignAtStart.get(ours) ? ours : foreign
}
