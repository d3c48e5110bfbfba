/**
 * Reads the datapoints a log record carries, without changing the record
 * (Postgres still stores it as is):
 * - an explicit `metric: { name, value, unit?, dimensions? }` field written by `metric()` (sinks/shared/metric.ts), proof checked;
 * - a verified span record (`sluice: 'span'`): SpanDuration per SpanName, and per model
 *   Tokens (by TokenType), CostUSD and CacheHitRatio.
 */
import type { LogRecord } from '../shared/log-record.js'
import { isProven } from '../shared/record-proof.js'
import { isSpanValue } from '../shared/span-record.js'
import type { MetricIntake } from './metric-intake.js'

const TOKEN_TYPES = [
  ['input_tokens', 'input'],
  ['output_tokens', 'output'],
  ['cache_read_tokens', 'cache_read'],
  ['cache_creation_tokens', 'cache_creation'],
] as const

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Token counts beyond 2^53 travel as decimal strings; a magnitude is all a metric needs. */
function tokens(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0
}

export function observeRecord(record: LogRecord, intake: MetricIntake, now: number): void {
  const value = record.value
  // Only a metric() field the worker verified: a logged object's own `metric` key is just data.
  const explicit = value.metric
  if (isObject(explicit) && isProven(value, 'metric')) {
    intake.add(explicit.name, explicit.value, explicit.unit ?? 'None', explicit.dimensions, record.time, now)
  }
  if (isSpanValue(value)) observeSpan(value, record.time, intake, now)
}

function observeSpan(span: Record<string, unknown>, recordTime: number, intake: MetricIntake, now: number): void {
  const time = typeof span.end_time === 'number' ? span.end_time : recordTime
  if (typeof span.name === 'string' && typeof span.duration_ms === 'number') {
    intake.add('SpanDuration', span.duration_ms, 'Milliseconds', { SpanName: span.name }, time, now)
  }
  const models = isObject(span.usage) ? span.usage.models : undefined
  if (!isObject(models)) return
  for (const [model, usage] of Object.entries(models)) {
    if (!isObject(usage)) continue
    for (const [field, type] of TOKEN_TYPES) {
      const count = tokens(usage[field])
      if (count > 0) intake.add('Tokens', count, 'Count', { Model: model, TokenType: type }, time, now)
    }
    if (typeof usage.cost_usd === 'number') intake.add('CostUSD', usage.cost_usd, 'None', { Model: model }, time, now)
    const read = tokens(usage.cache_read_tokens)
    const prompt = tokens(usage.input_tokens) + read + tokens(usage.cache_creation_tokens)
    // No prompt tokens means no hit ratio, not a ratio of 0.
    if (prompt > 0) intake.add('CacheHitRatio', read / prompt, 'None', { Model: model }, time, now)
  }
}
