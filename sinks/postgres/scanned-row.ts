/**
 * The COPY row of a record the worker's scanner read (LineRecord, issue 25),
 * from its line and where the scanner found its fields (ScannedFields):
 * the same text `encodeCopyColumns(logColumns(…), copyText(dataCutter(…)))`
 * makes from the parsed record, without parsing it.
 *
 * An ASCII line (pino's usual output) is copied into the batch's buffer
 * unit by unit, in one pass, making no strings: building a row as a string
 * and then encoding it cost more than the rest of the worker's work on a
 * record. Any other line is written as text (scannedRowText).
 */
import { ESCAPED_HOSTNAME, ESCAPED_MSG, ESCAPED_SPAN_ID, ESCAPED_TRACE_ID, type LogRecord, type ScannedFields } from '../shared/log-record.js'
import { copyText, encodeCopyColumns, writeCopyTime } from './copy-log-rows.js'
import { levelColumn, type LogColumns } from './log-row.js'

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const N = 0x4e

/** A string column's text: between its quotes in the line, read with JSON.parse when it holds escapes; null for NULL. */
function columnText(line: string, at: number, end: number, escaped: boolean): string | null {
  if (at < 0) return null
  return escaped ? (JSON.parse(line.slice(at - 1, end + 1)) as string) : line.slice(at, end)
}

/** The data column's JSON, as dataCutter cuts it from the line: `{`, the runs joined by `,`, `}`. */
export function scannedData(line: string, s: ScannedFields): string {
  if (s.dataAt < 0) return '{}'
  let data = `{${line.slice(s.dataAt, s.dataEnd)}`
  const more = s.moreData ?? []
  for (let k = 0; k < more.length; k += 2) data += `,${line.slice(more[k], more[k + 1])}`
  return `${data}}`
}

/** `logColumns` of a scanned record, read from its line. */
export function scannedColumns(record: LogRecord, line: string, s: ScannedFields, writerId: string): LogColumns {
  return {
    t: record.time,
    level: levelColumn(record.level),
    msg: columnText(line, s.msgAt, s.msgEnd, (s.escaped & ESCAPED_MSG) !== 0),
    hostname: columnText(line, s.hostnameAt, s.hostnameEnd, (s.escaped & ESCAPED_HOSTNAME) !== 0),
    pid: s.pid,
    writer_id: writerId,
    seq: record.seq,
    trace_id: columnText(line, s.traceIdAt, s.traceIdEnd, (s.escaped & ESCAPED_TRACE_ID) !== 0),
    span_id: columnText(line, s.spanIdAt, s.spanIdEnd, (s.escaped & ESCAPED_SPAN_ID) !== 0),
  }
}

/** A scanned record's COPY row as text (any line). */
export function scannedRowText(record: LogRecord, line: string, s: ScannedFields, writerId: string): string {
  const data = scannedData(line, s)
  return encodeCopyColumns(scannedColumns(record, line, s, writerId), s.backslash ? copyText(data) : data)
}

/**
 * The most bytes writeAsciiRow writes for `line`: every column's text comes
 * from the line and at most doubles (a backslash, or an escape such as \n,
 * becomes two bytes; \uXXXX, six units, at most three), plus the time,
 * numbers, tabs and the writer id.
 */
export function maxAsciiRowBytes(line: string, writerIdBytes: number): number {
  return 2 * line.length + writerIdBytes + 96
}

let lastWriterId = ''
let writerIdText = Buffer.alloc(0)

/** The writer id as COPY text, in bytes (the same for every row of a batch). */
export function writerIdBytes(writerId: string): Buffer {
  if (writerId !== lastWriterId) {
    lastWriterId = writerId
    writerIdText = Buffer.from(copyText(writerId))
  }
  return writerIdText
}

/** Writes a non-negative integer's digits (what `${n}` writes for it). */
function writeDigits(buf: Buffer, at: number, n: number): number {
  let digits = 1
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = 0x30 + (n % 10)
    n = Math.floor(n / 10)
  }
  return at + digits
}

function writeNull(buf: Buffer, at: number): number {
  buf[at] = BACKSLASH
  buf[at + 1] = N
  return at + 2
}

/**
 * From this many units on, Buffer#write (native) copies a run of an ASCII
 * line faster than a loop, its call and the slice included: measured 75
 * against 170 ns for 70 units, about even at 40.
 */
const NATIVE_COPY_UNITS = 48

/** Units `from` to `to` of an ASCII line, as they are (latin1 writes each unit as one byte: the same bytes for ASCII). */
function copyAscii(buf: Buffer, at: number, line: string, from: number, to: number): number {
  if (to - from >= NATIVE_COPY_UNITS) return at + buf.write(line.slice(from, to), at, to - from, 'latin1')
  for (let i = from; i < to; i++) buf[at++] = line.charCodeAt(i)
  return at
}

/** A string column of an ASCII line: its units as they are, or (with escapes) its text read and written as COPY text. */
function writeColumn(buf: Buffer, at: number, line: string, from: number, to: number, escaped: boolean): number {
  if (from < 0) return writeNull(buf, at)
  // Unescaped JSON string text holds no backslash or control character: nothing for COPY to escape.
  if (!escaped) return copyAscii(buf, at, line, from, to)
  return at + buf.write(copyText(JSON.parse(line.slice(from - 1, to + 1)) as string), at)
}

/** Units `from` to `to` of an ASCII line as COPY text: only a backslash needs escaping (doubled). */
function writeRun(buf: Buffer, at: number, line: string, from: number, to: number, backslash: boolean): number {
  if (!backslash) return copyAscii(buf, at, line, from, to)
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i)
    buf[at++] = c
    if (c === BACKSLASH) buf[at++] = BACKSLASH
  }
  return at
}

/** Copies a few bytes (the writer id, the time's prefix): a loop costs less than Buffer.copy's call for so few. */
function writeBytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i] as number
  return at
}

/**
 * Writes the COPY row of a scanned ASCII line (`s.ascii`) into `buf` at
 * `at`, which has room for maxAsciiRowBytes; returns where the row ends.
 */
export function writeAsciiRow(buf: Buffer, at: number, record: LogRecord, line: string, s: ScannedFields, writerId: Buffer): number {
  const escaped = s.escaped
  at = writeCopyTime(buf, at, record.time)
  buf[at++] = TAB
  at = writeDigits(buf, at, levelColumn(record.level))
  buf[at++] = TAB
  at = writeColumn(buf, at, line, s.msgAt, s.msgEnd, (escaped & ESCAPED_MSG) !== 0)
  buf[at++] = TAB
  at = writeColumn(buf, at, line, s.hostnameAt, s.hostnameEnd, (escaped & ESCAPED_HOSTNAME) !== 0)
  buf[at++] = TAB
  at = s.pid === null ? writeNull(buf, at) : writeDigits(buf, at, s.pid)
  buf[at++] = TAB
  at = writeBytes(buf, at, writerId)
  buf[at++] = TAB
  at = writeDigits(buf, at, record.seq)
  buf[at++] = TAB
  at = writeColumn(buf, at, line, s.traceIdAt, s.traceIdEnd, (escaped & ESCAPED_TRACE_ID) !== 0)
  buf[at++] = TAB
  at = writeColumn(buf, at, line, s.spanIdAt, s.spanIdEnd, (escaped & ESCAPED_SPAN_ID) !== 0)
  buf[at++] = TAB
  buf[at++] = OPEN_BRACE
  if (s.dataAt >= 0) {
    at = writeRun(buf, at, line, s.dataAt, s.dataEnd, s.backslash)
    const more = s.moreData
    if (more !== undefined) {
      for (let k = 0; k < more.length; k += 2) {
        buf[at++] = COMMA
        at = writeRun(buf, at, line, more[k] as number, more[k + 1] as number, s.backslash)
      }
    }
  }
  buf[at++] = CLOSE_BRACE
  buf[at++] = NEWLINE
  return at
}
