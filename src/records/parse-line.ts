import { RAW_LINE, type LogRecord } from './log-record.js'
import { levelFromValue } from './peek-level.js'
import { mayNeedSanitizing, sanitizeValue } from './sanitize.js'

export type ParseResult = { ok: true; record: LogRecord; sanitized: boolean } | { ok: false }

const MIN_TIME = -62135596800000
/** Years 1 to 9999: ISO text beyond that ("+275760-…") is not something Postgres parses. */
const MAX_TIME = 253402300799999

function timeFromValue(value: unknown): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN
  return Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME ? ms : undefined
}

/**
 * What keeps a line from being copied as written into jsonb (one scan of the
 * line; rare, then looked at closely): escapes that need sanitizing (see
 * sanitize.ts), and numbers beyond a double, a three-digit exponent or 309
 * digits in a row. JSON.parse makes those Infinity or 0 (stored as null or
 * 0), while jsonb refuses the largest as written.
 */
const NEEDS_CARE = /\\u(?:0000|d[89a-f])|\d[eE][+-]?\d{3}|\d{309}/i

/** Parses one raw line into a record; anything but a JSON object is refused. */
export function parseLine(line: string, bytes: number, seq: number, now: number): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false }
  const careful = NEEDS_CARE.test(line)
  const sanitized = careful && mayNeedSanitizing(line)
  const object = (sanitized ? sanitizeValue(value) : value) as Record<string, unknown>
  let time = timeFromValue(object.time)
  let unchanged = !careful
  if (time === undefined) {
    // Keep an unusable time visible in `data` rather than losing it.
    if (object.time !== undefined) {
      object.time_invalid = object.time
      unchanged = false
    }
    time = now
  }
  return { ok: true, sanitized, record: { seq, time, level: levelFromValue(object.level), bytes, value: object, [RAW_LINE]: unchanged ? line : undefined } }
}
