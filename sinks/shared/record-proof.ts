/**
 * Span and metric records travel as ordinary log lines, so a logged object
 * could claim to be one: `log.info(JSON.parse(body))` with `"sluice":"span"`,
 * a chosen trace_id and cost_usd would become a span. The tracer, the OTel
 * processor and `metric()` sign what they write with a key only this process
 * holds; the worker takes a record as a span or a metric only when the proof
 * matches, and stores anything else as a plain log row.
 *
 * The key: 32 random bytes made by the first thread of the process that loads
 * pino-sluice, handed to every worker thread started after that through
 * Node's environment data (worker_threads.setEnvironmentData): never in a
 * record, an option, process.env or a file. So pino-sluice must be imported
 * before `pino.transport()` starts its worker (an ES import at the top of the
 * file does it); createSluice() always starts its worker after.
 *
 * The proof is an HMAC-SHA256 (128 bits, base64url) over the fields that make
 * the claim: a span's ids, name, times, status and usage (so its cost); a
 * metric's name, value, unit and dimensions. Computed only for those records,
 * checked only for lines that carry a proof: other lines cost one property
 * lookup, as before.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads'

export const PROOF_FIELD = 'sluice_proof'

/** What a verified record is, on its parsed value: a symbol, so no JSON (and no logged object) can set it. */
export const RECORD_KIND: unique symbol = Symbol('pino-sluice record kind')
export type ProvenKind = 'span' | 'metric'

const KEY_NAME = 'pino-sluice:record-key'
const KEY_BYTES = 32

function processKey(): Buffer {
  const inherited = getEnvironmentData(KEY_NAME)
  if (inherited instanceof Uint8Array && inherited.length === KEY_BYTES) return Buffer.from(inherited)
  const fresh = randomBytes(KEY_BYTES)
  setEnvironmentData(KEY_NAME, fresh)
  return fresh
}

const KEY = processKey()

interface SpanClaim {
  trace_id?: unknown
  span_id?: unknown
  parent_span_id?: unknown
  name?: unknown
  start_time?: unknown
  end_time?: unknown
  duration_ms?: unknown
  status?: unknown
  usage?: unknown
}

function mac(text: string): string {
  return createHmac('sha256', KEY).update(text).digest('base64url').slice(0, 22)
}

function spanText(span: SpanClaim): string {
  return JSON.stringify(['span', span.trace_id, span.span_id, span.parent_span_id ?? null, span.name, span.start_time, span.end_time, span.duration_ms, span.status, span.usage ?? null])
}

function metricText(metric: unknown): string {
  return JSON.stringify(['metric', metric])
}

/** The proof a span record carries (the tracer and the OTel processor add it as `sluice_proof`). */
export function spanProof(span: SpanClaim): string {
  return mac(spanText(span))
}

/** The proof a `metric()` field carries. */
export function metricProof(metric: unknown): string {
  return mac(metricText(metric))
}

function sameProof(given: string, expected: string): boolean {
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
}

/**
 * For a parsed line that carries a proof: marks the value with RECORD_KIND
 * when the proof is this process's, and says what it was. 'forged' means a
 * proof that does not match: a logged object, or a span whose fields a pino
 * formatter or redaction changed, or a transport started before pino-sluice
 * was imported (its worker then has another key).
 */
export function checkProof(value: Record<string, unknown>): ProvenKind | 'forged' {
  const proof = value[PROOF_FIELD]
  if (typeof proof !== 'string') return 'forged'
  let kind: ProvenKind | undefined
  try {
    if (value.sluice === 'span' && sameProof(proof, spanProof(value as SpanClaim))) kind = 'span'
    else if (value.metric !== undefined && sameProof(proof, metricProof(value.metric))) kind = 'metric'
  } catch {
    // A value JSON.stringify cannot take again (nested deeper than the stack): not proven.
  }
  if (kind === undefined) return 'forged'
  Object.defineProperty(value, RECORD_KIND, { value: kind, enumerable: false })
  return kind
}

/** True when the worker verified this value's proof as `kind`. */
export function isProven(value: Record<string, unknown>, kind: ProvenKind): boolean {
  return (value as { [RECORD_KIND]?: ProvenKind })[RECORD_KIND] === kind
}

/** For tests and internal builders of records that never travel as a line: mark a value as proven. */
export function markProven<T extends Record<string, unknown>>(value: T, kind: ProvenKind): T {
  Object.defineProperty(value, RECORD_KIND, { value: kind, enumerable: false, configurable: true })
  return value
}
