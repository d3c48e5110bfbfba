import type { LogRecord } from '../shared/log-record.js'
import { isSpanId, isTraceId } from '../shared/ids.js'

/** One spans-table row as the JSON object `jsonb_to_recordset` reads (see spans-schema.ts). */
export interface SpanRow {
  trace_id: string
  span_id: string
  parent_span_id: string | null
  name: string
  /** Epoch ms, fractional. */
  start: number
  end: number
  duration_ms: number
  status: 'ok' | 'error'
  error_type: string | null
  error_message: string | null
  attributes: Record<string, unknown>
  events: unknown[]
  /** BIGINT counts in canonical decimal: exact beyond 2^53. */
  input_tokens: string
  output_tokens: string
  cache_read_tokens: string
  cache_creation_tokens: string
  cost_usd: number | null
  /** JSON text, cast to jsonb in SQL, so counts beyond 2^53 stay exact JSON numbers. */
  model_usage: string
  payload: unknown
  hostname: string | null
  pid: number | null
  writer_id: string
  seq: number
  data: Record<string, unknown>
}

/** Fields that have a column (or that pino adds and the columns already say). */
const CONSUMED = new Set([
  'sluice', 'sluice_proof', 'trace_id', 'span_id', 'parent_span_id', 'name', 'start_time', 'end_time', 'duration_ms', 'status',
  'error', 'attributes', 'events', 'usage', 'payload', 'hostname', 'pid', 'time', 'level',
])

const BIGINT_MAX = 2n ** 63n - 1n
const INT_MAX = 2147483647
/** Years 1 to 9999, which timestamptz and Date both handle. */
const MIN_TIME = -62135596800000
const MAX_TIME = 253402300799999
const DIGITS = /^[0-9]+$/

/**
 * A BIGINT value in canonical decimal, or undefined if the value is no exact
 * non-negative int8. A missing count is refused too: a `usage` replaced by
 * something else (e.g. an offload pointer) must not read as zero tokens.
 */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined
  if (typeof value === 'string' && DIGITS.test(value)) {
    const count = BigInt(value)
    return count <= BIGINT_MAX ? count.toString() : undefined
  }
  return undefined
}

function isCost(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= MIN_TIME && value <= MAX_TIME
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

interface Tokens {
  input: string
  output: string
  cacheRead: string
  cacheCreation: string
  cost: number | undefined
}

const NO_TOKENS: Tokens = { input: '0', output: '0', cacheRead: '0', cacheCreation: '0', cost: undefined }

function readTokens(usage: Record<string, unknown>): Tokens | undefined {
  const input = tokenText(usage.input_tokens)
  const output = tokenText(usage.output_tokens)
  const cacheRead = tokenText(usage.cache_read_tokens)
  const cacheCreation = tokenText(usage.cache_creation_tokens)
  const cost = usage.cost_usd
  if (input === undefined || output === undefined || cacheRead === undefined || cacheCreation === undefined) return undefined
  if (cost !== undefined && !isCost(cost)) return undefined
  return { input, output, cacheRead, cacheCreation, cost }
}

/** Per-model usage as JSON text with counts as JSON numbers: jsonb keeps them exact (numeric), even beyond 2^53. */
function modelUsageJson(models: unknown): string | undefined {
  if (models === undefined) return '{}'
  if (!isObject(models)) return undefined
  const parts: string[] = []
  for (const [model, usage] of Object.entries(models)) {
    const tokens = isObject(usage) ? readTokens(usage) : undefined
    if (tokens === undefined) return undefined
    const cost = tokens.cost === undefined ? '' : `,"cost_usd":${JSON.stringify(tokens.cost)}`
    parts.push(
      `${JSON.stringify(model)}:{"input_tokens":${tokens.input},"output_tokens":${tokens.output},` +
        `"cache_read_tokens":${tokens.cacheRead},"cache_creation_tokens":${tokens.cacheCreation}${cost}}`,
    )
  }
  return `{${parts.join(',')}}`
}

/**
 * Maps a span record to its spans-table row, or returns undefined when the
 * record only claims to be a span (a hand-written `sluice: 'span'` with
 * missing or mistyped fields): the caller then stores it as a log row, whose
 * `data` keeps everything, instead of letting one odd record fail its batch.
 */
export function toSpanRow(record: LogRecord, writerId: string): SpanRow | undefined {
  const v = record.value
  const { trace_id, span_id, parent_span_id, name, start_time, end_time, duration_ms, status, usage } = v
  if (!isTraceId(trace_id) || !isSpanId(span_id)) return undefined
  if (parent_span_id !== undefined && parent_span_id !== null && !isSpanId(parent_span_id)) return undefined
  if (typeof name !== 'string' || name.length === 0 || (status !== 'ok' && status !== 'error')) return undefined
  if (!isTime(start_time) || !isTime(end_time) || typeof duration_ms !== 'number' || !Number.isFinite(duration_ms) || duration_ms < 0) {
    return undefined
  }
  if (usage !== undefined && !isObject(usage)) return undefined
  const tokens = usage === undefined ? NO_TOKENS : readTokens(usage)
  const models = modelUsageJson(usage?.models)
  if (tokens === undefined || models === undefined) return undefined

  const data: Record<string, unknown> = {}
  for (const key of Object.keys(v)) if (!CONSUMED.has(key)) data[key] = v[key]
  // A field of the wrong shape for its column is kept in data rather than lost.
  const { error, attributes, events, payload, hostname, pid } = v
  const errorType = isObject(error) && typeof error.type === 'string' ? error.type : null
  const errorMessage = isObject(error) && typeof error.message === 'string' ? error.message : null
  if (error !== undefined && (errorType === null || errorMessage === null)) data.error = error
  if (attributes !== undefined && !isObject(attributes)) data.attributes = attributes
  if (events !== undefined && !Array.isArray(events)) data.events = events
  if (hostname !== undefined && typeof hostname !== 'string') data.hostname = hostname
  const pidOk = typeof pid === 'number' && Number.isInteger(pid) && pid >= 0 && pid <= INT_MAX
  if (pid !== undefined && !pidOk) data.pid = pid

  return {
    trace_id,
    span_id,
    parent_span_id: typeof parent_span_id === 'string' ? parent_span_id : null,
    name,
    start: start_time,
    end: end_time,
    duration_ms,
    status,
    error_type: errorType,
    error_message: errorMessage,
    attributes: isObject(attributes) ? attributes : {},
    events: Array.isArray(events) ? events : [],
    input_tokens: tokens.input,
    output_tokens: tokens.output,
    cache_read_tokens: tokens.cacheRead,
    cache_creation_tokens: tokens.cacheCreation,
    cost_usd: tokens.cost ?? null,
    model_usage: models,
    payload: payload ?? null,
    hostname: typeof hostname === 'string' ? hostname : null,
    pid: pidOk ? pid : null,
    writer_id: writerId,
    seq: record.seq,
    data,
  }
}
