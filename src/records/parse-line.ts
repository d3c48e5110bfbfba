import { RAW_LINE, type LogRecord } from '../../sinks/shared/log-record.js'
import { checkProof, PROOF_FIELD } from '../../sinks/shared/record-proof.js'
import { usageInvalidOf } from '../../sinks/shared/span-record.js'
import { levelFromValue } from './peek-level.js'
import { mayNeedSanitizing, sanitizeValue } from './sanitize.js'

/**
 * `forged`: the line carried a span/metric proof that is not this process's (record-proof.ts); it is stored as a plain log row.
 * `usageInvalid`: the `usage_invalid` count of a span (span-record.ts), read here so that the caller need not touch `value`.
 */
export type ParseResult = { ok: true; record: LogRecord; sanitized: boolean; forged?: true; usageInvalid?: number } | { ok: false }

const MIN_TIME = -62135596800000
/** Years 1 to 9999: ISO text beyond that ("+275760-…") is not something Postgres parses. */
const MAX_TIME = 253402300799999

/** Epoch ms from a record's `time` field (a number or ISO text), or undefined when unusable. */
export function timeFromValue(value: unknown): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN
  return Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME ? ms : undefined
}

/** Parses one raw line into a record; anything but a JSON object is refused. */
export function parseLine(line: string, bytes: number, seq: number, now: number): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false }
  const sanitized = mayNeedSanitizing(line)
  const object = (sanitized ? sanitizeValue(value) : value) as Record<string, unknown>
  let time = timeFromValue(object.time)
  let unchanged = !sanitized
  if (time === undefined) {
    // Keep an unusable time visible in `data` rather than losing it.
    if (object.time !== undefined) {
      object.time_invalid = object.time
      unchanged = false
    }
    time = now
  }
  const record: LogRecord = { seq, time, level: levelFromValue(object.level), bytes, value: object, [RAW_LINE]: unchanged ? line : undefined }
  // Only span and metric records carry a proof: every other line pays this one lookup.
  if (object[PROOF_FIELD] === undefined) return { ok: true, sanitized, record }
  if (checkProof(object) === 'forged') return { ok: true, sanitized, record, forged: true }
  return { ok: true, sanitized, record, usageInvalid: usageInvalidOf(object) }
}
