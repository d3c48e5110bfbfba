/**
 * The shape of a span record as it travels through pino: one JSON line per
 * finished span, marked by `sluice: 'span'` and signed by `sluice_proof`. The
 * tracer (main thread) writes it; the worker checks the proof, then routes it
 * to the spans table and derives metrics from it.
 */
import { isProven } from './record-proof.js'

export const SPAN_MARKER_FIELD = 'sluice'
export const SPAN_MARKER_VALUE = 'span'

/**
 * A token count: a number while it is a safe integer (<= 2^53 - 1), else a
 * decimal string, because JSON numbers beyond 2^53 lose digits when parsed.
 * Readers that only need magnitudes can use `Number(count)`.
 */
export type TokenCount = number | string

export interface ModelUsage {
  input_tokens: TokenCount
  output_tokens: TokenCount
  cache_read_tokens: TokenCount
  cache_creation_tokens: TokenCount
  /** USD; absent when neither given nor priced. */
  cost_usd?: number
}

export interface SpanEvent {
  name: string
  /** Epoch ms. */
  time: number
  attributes?: Record<string, unknown>
}

export interface SpanRecordFields {
  sluice: 'span'
  /** 32 lower-case hex characters (W3C trace-context). */
  trace_id: string
  /** 16 lower-case hex characters. */
  span_id: string
  parent_span_id?: string
  name: string
  /** Epoch ms (wall clock at start; end = start + duration from the monotonic clock). */
  start_time: number
  end_time: number
  duration_ms: number
  status: 'ok' | 'error'
  error?: { type: string; message: string }
  attributes?: Record<string, unknown>
  events?: SpanEvent[]
  /** Totals over all models, plus one entry per model. Present only when usage was recorded. */
  usage?: ModelUsage & { models: Record<string, ModelUsage> }
  /** Large inputs/outputs; offloaded to S3 when big (then this field holds the pointer). */
  payload?: { input?: unknown; output?: unknown }
  /**
   * `recordUsage` calls on this span that had invalid values (recorded in part
   * or not at all). The worker adds it to the `usage_invalid` counter; the
   * spans table keeps it in `data`.
   */
  usage_invalid?: number
  /** Added as the record is logged: proves the tracer wrote it (sinks/shared/record-proof.ts). */
  sluice_proof?: string
}

export const USAGE_INVALID_FIELD = 'usage_invalid'

/** The `usage_invalid` count a span record carries, or 0 (also for anything that is not a span's positive integer). */
export function usageInvalidOf(value: Record<string, unknown>): number {
  const count = value[USAGE_INVALID_FIELD]
  if (count === undefined || !isSpanValue(value)) return 0
  return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0
}

/**
 * True for a span the worker verified (sinks/shared/record-proof.ts): a record
 * that only says `sluice: 'span'` is a plain log row.
 */
export function isSpanValue(value: Record<string, unknown>): boolean {
  return value[SPAN_MARKER_FIELD] === SPAN_MARKER_VALUE && isProven(value, 'span')
}
