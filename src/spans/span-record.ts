/**
 * The shape of a span record as it travels through pino: one JSON line per
 * finished span, marked by `sluice: 'span'`. The tracer (main thread) writes
 * it; the worker routes it to the spans table and derives metrics from it.
 */
export const SPAN_MARKER_FIELD = 'sluice'
export const SPAN_MARKER_VALUE = 'span'

export interface ModelUsage {
  input_tokens: number
  output_tokens: number
  cache_read_tokens: number
  cache_creation_tokens: number
  /** USD; absent when neither given nor priced. */
  cost_usd?: number
}

export interface SpanRecordFields {
  sluice: 'span'
  /** 32 lower-case hex characters (W3C trace-context). */
  trace_id: string
  /** 16 lower-case hex characters. */
  span_id: string
  parent_span_id?: string
  name: string
  /** Epoch ms. */
  start_time: number
  end_time: number
  duration_ms: number
  status: 'ok' | 'error'
  error?: { type: string; message: string }
  attributes?: Record<string, unknown>
  events?: { name: string; time: number; attributes?: Record<string, unknown> }[]
  /** Totals over all models, plus one entry per model. Token counts may exceed 2^53 and then travel as strings. */
  usage?: ModelUsage & { models: Record<string, ModelUsage> }
  /** Large inputs/outputs; offloaded to S3 when big. */
  payload?: { input?: unknown; output?: unknown }
}

export function isSpanValue(value: Record<string, unknown>): boolean {
  return value[SPAN_MARKER_FIELD] === SPAN_MARKER_VALUE
}
