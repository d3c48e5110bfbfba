import { isSpanValue, SPAN_MARKER_FIELD } from '../shared/span-record.js'

/** One top-level field of a record chosen for offloading, serialized once. */
export interface Payload {
  readonly field: string
  readonly json: Buffer
}

/**
 * Rough size of a pointer in the row (`"$ref"` with bucket and key, `bytes`,
 * `sha256`, `encoding`). Fields smaller than this are never worth moving.
 */
export const POINTER_BYTES = 256

/** These fill typed columns (and `time`/`level` are read before any stage runs), so they always stay in the row. */
const KEPT_IN_ROW: ReadonlySet<string> = new Set(['time', 'level'])

/**
 * What makes a span record a span row (identity, timing, status, token
 * usage): moving one would turn the span into a plain log row. Its big
 * parts are `payload`, `attributes`, `events` and `error`.
 */
const KEPT_IN_SPAN: ReadonlySet<string> = new Set([
  ...KEPT_IN_ROW,
  SPAN_MARKER_FIELD,
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'start_time',
  'end_time',
  'duration_ms',
  'status',
  'usage',
])

/**
 * Picks the biggest top-level fields of a record until what stays in the row
 * is at or under `thresholdBytes` (the caller only asks for records above
 * it). Sizes are UTF-8 bytes of each field's JSON; the row's size is
 * estimated from the raw line, minus each moved field plus its pointer.
 */
export function pickPayloads(value: Record<string, unknown>, recordBytes: number, thresholdBytes: number): Payload[] {
  const candidates: { field: string; json: Buffer }[] = []
  const kept = isSpanValue(value) ? KEPT_IN_SPAN : KEPT_IN_ROW
  for (const field of Object.keys(value)) {
    if (kept.has(field)) continue
    const text = JSON.stringify(value[field])
    // UTF-8 takes at most three bytes per UTF-16 unit, so short text cannot be big enough: skip the copy.
    if (text === undefined || text.length * 3 <= POINTER_BYTES) continue
    const json = Buffer.from(text)
    if (json.length > POINTER_BYTES) candidates.push({ field, json })
  }
  candidates.sort((a, b) => b.json.length - a.json.length)
  const picked: Payload[] = []
  let size = recordBytes
  for (const candidate of candidates) {
    if (size <= thresholdBytes) break
    picked.push(candidate)
    size -= candidate.json.length - POINTER_BYTES
  }
  return picked
}

/** Sets a field as an own data property, even for names like `__proto__` that plain assignment would treat specially. */
export function setField(value: Record<string, unknown>, field: string, replacement: unknown): void {
  Object.defineProperty(value, field, { value: replacement, writable: true, enumerable: true, configurable: true })
}
