/**
 * The byte-level path for plain log lines (issue 25). One pass over a line
 * checks that JSON.parse would take it and reads the top-level fields the
 * logs table's columns take (time, level, msg, hostname, pid, trace_id,
 * span_id), building no object; it notes where they are, and which runs
 * of the line make the data column. The record it makes (LineRecord) parses `value` only if
 * something asks for it, and the Postgres store copies its row from the
 * line (sinks/postgres/scanned-row.ts).
 *
 * Declines (undefined: the caller takes the parse path, parseLine) whenever
 * the parse path would store something other than the line as written, or
 * would have to look closer: a line that is not a JSON object, one with raw
 * control characters (legal only as tabs, CRs or newlines between tokens,
 * which pino never writes), a span or
 * metric (a top-level `sluice_proof`), an escape Postgres refuses once
 * decoded (\u0000, lone surrogates: sanitize.ts), an unusable `time` (kept as
 * `time_invalid`), a number jsonb may refuse as written (data-from-line.ts),
 * a column field given twice (JSON.parse keeps the last), nesting deeper
 * than MAX_DEPTH. So whatever it accepts is stored exactly as the parse
 * path stores it (test/unit/scan-line.test.ts checks it over any JSON line).
 *
 * Invalid UTF-8 never reaches it: lines are decoded before, with U+FFFD in
 * place of bad bytes, on both paths alike.
 */
import { ESCAPED_HOSTNAME, ESCAPED_MSG, ESCAPED_SPAN_ID, ESCAPED_TRACE_ID, LineRecord, type ScannedFields } from '../../sinks/shared/log-record.js'
import { MAX_DIGIT_RUN, MAX_EXPONENT_DIGITS } from '../../sinks/postgres/data-from-line.js'
import { levelColumn, pidColumn } from '../../sinks/postgres/log-row.js'
import { timeFromValue } from './parse-line.js'
import { levelFromValue } from './peek-level.js'
import { mayNeedSanitizing } from './sanitize.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const MINUS = 0x2d
const DOT = 0x2e
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** Deeper values take the parse path: the scanner recurses on the JS stack. */
const MAX_DEPTH = 64
const FAIL = -1

/** The top-level fields the scanner looks for; a bit each in `seen`. */
const OTHER = 0
const TIME = 1
const LEVEL = 2
const MSG = 3
const HOSTNAME = 4
const PID = 5
const TRACE_ID = 6
const SPAN_ID = 7
const PROOF = 8
const FIELDS: ReadonlyMap<string, number> = new Map([
  ['time', TIME],
  ['level', LEVEL],
  ['msg', MSG],
  ['hostname', HOSTNAME],
  ['pid', PID],
  ['trace_id', TRACE_ID],
  ['span_id', SPAN_ID],
  ['sluice_proof', PROOF],
])

// What the scan of the current line has seen so far (one line at a time, synchronously).
/** The string `stringEnd` last passed holds an escape. */
let escaped = false
/** Some string `stringEnd` passed in this line holds a backslash (an escape). */
let anyBackslash = false
/** Some string `stringEnd` passed in this line holds a unit above 0x7f: the line is not ASCII. */
let beyondAscii = false

/** What the scan found, handed to the record (which copies it): one object for every line, not one each. */
const FOUND: { -readonly [K in keyof ScannedFields]: ScannedFields[K] } = {
  msgAt: -1,
  msgEnd: -1,
  hostnameAt: -1,
  hostnameEnd: -1,
  traceIdAt: -1,
  traceIdEnd: -1,
  spanIdAt: -1,
  spanIdEnd: -1,
  escaped: 0,
  pid: null,
  dataAt: -1,
  dataEnd: -1,
  moreData: undefined,
  backslash: false,
  ascii: true,
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** Past the spaces at `i`: the only space between tokens of a line without raw control characters (see scanLine). */
function skipSpace(line: string, i: number): number {
  while (line.charCodeAt(i) === 0x20) i++
  return i
}

/**
 * The index just past the JSON string whose opening quote is at `i`, or
 * FAIL. Looks at each unit (strings are short: a loop costs less than
 * indexOf's calls), and so also notes what the line holds: an escape
 * (`escaped`, `anyBackslash`), a unit beyond ASCII (`beyondAscii`). A raw
 * control character fails, as JSON.parse fails on it: outside strings the
 * grammar refuses it anyway, so no other pass over the line looks for them.
 */
function stringEnd(line: string, i: number): number {
  escaped = false
  let at = i + 1
  for (;;) {
    const c = line.charCodeAt(at)
    if (c === QUOTE) return at + 1
    if (c === BACKSLASH) {
      escaped = true
      anyBackslash = true
      const e = line.charCodeAt(at + 1)
      if (e === 0x75 /* u */) {
        if (!(isHex(line.charCodeAt(at + 2)) && isHex(line.charCodeAt(at + 3)) && isHex(line.charCodeAt(at + 4)) && isHex(line.charCodeAt(at + 5)))) return FAIL
        at += 6
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) at += 2
      else return FAIL
      continue
    }
    // Also the end of the line (NaN): an unterminated string.
    if (!(c >= 0x20)) return FAIL
    if (c > 0x7f) beyondAscii = true
    at++
  }
}

function digitsEnd(line: string, i: number): number {
  while (isDigit(line.charCodeAt(i))) i++
  return i
}

/** The index just past the number at `i`, or FAIL (also for one jsonb may refuse as written: see data-from-line.ts). */
function numberEnd(line: string, i: number): number {
  if (line.charCodeAt(i) === MINUS) i++
  const c = line.charCodeAt(i)
  if (c === 0x30) i++
  else if (isDigit(c)) {
    const from = i
    i = digitsEnd(line, i + 1)
    if (i - from >= MAX_DIGIT_RUN) return FAIL
  } else return FAIL
  if (line.charCodeAt(i) === DOT) {
    const from = i + 1
    i = digitsEnd(line, from)
    if (i === from || i - from >= MAX_DIGIT_RUN) return FAIL
  }
  const e = line.charCodeAt(i)
  if (e === 0x65 || e === 0x45) {
    i++
    const sign = line.charCodeAt(i)
    if (sign === 0x2b || sign === MINUS) i++
    const from = i
    i = digitsEnd(line, from)
    if (i === from || i - from > MAX_EXPONENT_DIGITS) return FAIL
  }
  return i
}

/** The number JSON.parse reads between `start` and `end` (a number numberEnd passed): digits summed when that is exact, else Number(). */
function numberValue(line: string, start: number, end: number): number {
  const negative = line.charCodeAt(start) === MINUS
  const from = negative ? start + 1 : start
  // Up to 15 digits, a sum of digits is exact (below 2^53), as Number() would read them.
  if (end - from > 15) return Number(line.slice(start, end))
  let n = 0
  for (let i = from; i < end; i++) {
    const digit = line.charCodeAt(i) - 0x30
    if (digit < 0 || digit > 9) return Number(line.slice(start, end))
    n = n * 10 + digit
  }
  return negative ? -n : n
}

/** The index just past the JSON value at `i` (no space before it), or FAIL. */
function valueEnd(line: string, i: number, depth: number): number {
  switch (line.charCodeAt(i)) {
    case QUOTE:
      return stringEnd(line, i)
    case OPEN_BRACE:
      return objectEnd(line, i, depth + 1)
    case OPEN_BRACKET:
      return arrayEnd(line, i, depth + 1)
    case 0x74:
      return line.startsWith('true', i) ? i + 4 : FAIL
    case 0x66:
      return line.startsWith('false', i) ? i + 5 : FAIL
    case 0x6e:
      return line.startsWith('null', i) ? i + 4 : FAIL
    default:
      return numberEnd(line, i)
  }
}

function objectEnd(line: string, i: number, depth: number): number {
  if (depth > MAX_DEPTH) return FAIL
  i = skipSpace(line, i + 1)
  if (line.charCodeAt(i) === CLOSE_BRACE) return i + 1
  for (;;) {
    if (line.charCodeAt(i) !== QUOTE) return FAIL
    i = stringEnd(line, i)
    if (i < 0) return FAIL
    i = skipSpace(line, i)
    if (line.charCodeAt(i) !== COLON) return FAIL
    i = valueEnd(line, skipSpace(line, i + 1), depth)
    if (i < 0) return FAIL
    i = skipSpace(line, i)
    const c = line.charCodeAt(i)
    if (c === CLOSE_BRACE) return i + 1
    if (c !== COMMA) return FAIL
    i = skipSpace(line, i + 1)
  }
}

function arrayEnd(line: string, i: number, depth: number): number {
  if (depth > MAX_DEPTH) return FAIL
  i = skipSpace(line, i + 1)
  if (line.charCodeAt(i) === CLOSE_BRACKET) return i + 1
  for (;;) {
    i = valueEnd(line, i, depth)
    if (i < 0) return FAIL
    i = skipSpace(line, i)
    const c = line.charCodeAt(i)
    if (c === CLOSE_BRACKET) return i + 1
    if (c !== COMMA) return FAIL
    i = skipSpace(line, i + 1)
  }
}

/** Which field the key between `start` and `end` (its quotes) names; `escaped` says whether it holds an escape. */
function fieldOf(line: string, start: number, end: number): number {
  if (escaped) return FIELDS.get(JSON.parse(line.slice(start, end)) as string) ?? OTHER
  const length = end - start - 2
  const at = start + 1
  switch (line.charCodeAt(at)) {
    case 0x74 /* t */:
      return length === 4 && line.startsWith('time', at) ? TIME : length === 8 && line.startsWith('trace_id', at) ? TRACE_ID : OTHER
    case 0x6c /* l */:
      return length === 5 && line.startsWith('level', at) ? LEVEL : OTHER
    case 0x6d /* m */:
      return length === 3 && line.startsWith('msg', at) ? MSG : OTHER
    case 0x68 /* h */:
      return length === 8 && line.startsWith('hostname', at) ? HOSTNAME : OTHER
    case 0x70 /* p */:
      return length === 3 && line.startsWith('pid', at) ? PID : OTHER
    case 0x73 /* s */:
      return length === 7 && line.startsWith('span_id', at) ? SPAN_ID : length === 12 && line.startsWith('sluice_proof', at) ? PROOF : OTHER
    default:
      return OTHER
  }
}

/** The string value between `start` and `end` (its quotes), just scanned by stringEnd. */
function stringValue(line: string, start: number, end: number): string {
  return escaped ? (JSON.parse(line.slice(start, end)) as string) : line.slice(start + 1, end - 1)
}

/**
 * Reads a plain log line into a record without parsing it, or declines
 * (undefined) and leaves it to parseLine. `now` is the time of a line
 * without `time`, as parseLine gives it.
 */
export function scanLine(line: string, bytes: number, seq: number, now: number): LineRecord | undefined {
  // Raw control characters are JSON only as tabs, CRs and newlines between tokens (pino writes none):
  // skipSpace passes spaces only, and stringEnd refuses them in strings, so such lines are the parse
  // path's. Whether the line is ASCII (copied as it is) and holds a backslash, stringEnd notes too:
  // outside strings, a line the scanner takes holds neither.
  anyBackslash = false
  beyondAscii = false
  let time = now
  let level = 0
  let msgAt = -1
  let msgEnd = -1
  let hostnameAt = -1
  let hostnameEnd = -1
  let traceIdAt = -1
  let traceIdEnd = -1
  let spanIdAt = -1
  let spanIdEnd = -1
  let escapedColumns = 0
  let pid: number | null = null
  let seen = 0
  // The data column: the members no column took, in runs of the line, as dataCutter cuts them.
  let dataAt = -1
  let dataEnd = -1
  let moreData: number[] | undefined
  let runStart = -1
  let runEnd = -1
  let i = skipSpace(line, 0)
  if (line.charCodeAt(i) !== OPEN_BRACE) return undefined
  i = skipSpace(line, i + 1)
  if (line.charCodeAt(i) !== CLOSE_BRACE) {
    for (;;) {
      if (line.charCodeAt(i) !== QUOTE) return undefined
      const keyStart = i
      i = stringEnd(line, i)
      if (i < 0) return undefined
      const field = fieldOf(line, keyStart, i)
      if (field !== OTHER) {
        if (field === PROOF || (seen & (1 << field)) !== 0) return undefined
        seen |= 1 << field
      }
      i = skipSpace(line, i)
      if (line.charCodeAt(i) !== COLON) return undefined
      const valueStart = skipSpace(line, i + 1)
      i = valueEnd(line, valueStart, 0)
      if (i < 0) return undefined
      let taken = false
      if (field !== OTHER) {
        const first = line.charCodeAt(valueStart)
        const isString = first === QUOTE
        const isNumber = first === MINUS || isDigit(first)
        switch (field) {
          case TIME: {
            const ms = isString ? timeFromValue(stringValue(line, valueStart, i)) : isNumber ? timeFromValue(numberValue(line, valueStart, i)) : undefined
            // An unusable time is kept as `time_invalid` by the parse path.
            if (ms === undefined) return undefined
            time = ms
            taken = true
            break
          }
          case LEVEL:
            if (isNumber) {
              const n = numberValue(line, valueStart, i)
              level = levelFromValue(n)
              taken = levelColumn(level) === n
            } else if (isString) level = levelFromValue(stringValue(line, valueStart, i))
            break
          case PID:
            pid = isNumber ? pidColumn(numberValue(line, valueStart, i)) : null
            taken = pid !== null
            break
          // A string column: where its text is (a value of another type leaves it NULL, and in data).
          case MSG:
            if ((taken = isString)) {
              msgAt = valueStart + 1
              msgEnd = i - 1
              if (escaped) escapedColumns |= ESCAPED_MSG
            }
            break
          case HOSTNAME:
            if ((taken = isString)) {
              hostnameAt = valueStart + 1
              hostnameEnd = i - 1
              if (escaped) escapedColumns |= ESCAPED_HOSTNAME
            }
            break
          case TRACE_ID:
            if ((taken = isString)) {
              traceIdAt = valueStart + 1
              traceIdEnd = i - 1
              if (escaped) escapedColumns |= ESCAPED_TRACE_ID
            }
            break
          case SPAN_ID:
            if ((taken = isString)) {
              spanIdAt = valueStart + 1
              spanIdEnd = i - 1
              if (escaped) escapedColumns |= ESCAPED_SPAN_ID
            }
            break
        }
      }
      const memberEnd = skipSpace(line, i)
      if (taken) {
        if (runStart < 0) {
          // Nothing kept since the last column field.
        } else if (dataAt < 0) {
          dataAt = runStart
          dataEnd = runEnd
        } else (moreData ??= []).push(runStart, runEnd)
        runStart = -1
      } else {
        if (runStart < 0) runStart = keyStart
        runEnd = memberEnd
      }
      i = memberEnd
      const c = line.charCodeAt(i)
      if (c === CLOSE_BRACE) break
      if (c !== COMMA) return undefined
      i = skipSpace(line, i + 1)
    }
  }
  if (skipSpace(line, i + 1) !== line.length) return undefined
  if (runStart >= 0 && dataAt < 0) {
    dataAt = runStart
    dataEnd = runEnd
  } else if (runStart >= 0) (moreData ??= []).push(runStart, runEnd)
  // The parse path sanitizes (and counts) a line with such an escape, even a false alarm: so must not we.
  if (anyBackslash && mayNeedSanitizing(line)) return undefined
  const found = FOUND
  found.msgAt = msgAt
  found.msgEnd = msgEnd
  found.hostnameAt = hostnameAt
  found.hostnameEnd = hostnameEnd
  found.traceIdAt = traceIdAt
  found.traceIdEnd = traceIdEnd
  found.spanIdAt = spanIdAt
  found.spanIdEnd = spanIdEnd
  found.escaped = escapedColumns
  found.pid = pid
  found.dataAt = dataAt
  found.dataEnd = dataEnd
  found.moreData = moreData
  found.backslash = anyBackslash
  found.ascii = !beyondAscii
  return new LineRecord(seq, time, level, bytes, line, found)
}
