/**
 * The byte path (scanLine, issue 25) against the parse path (parseLine):
 * over any line, the scanner either declines it (the worker then parses it)
 * or stores exactly what the parse path stores: the same COPY row bytes as
 * the parse path's row cut from the line, the same typed columns and jsonb
 * content as its row serialized from the parsed value, and the same value
 * when something asks for it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCopyRow } from '../../sinks/postgres/copy-log-rows.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { toLogRow } from '../../sinks/postgres/log-row.js'
import { scannedColumns, scannedData } from '../../sinks/postgres/scanned-row.js'
import { RAW_LINE, SCANNED, type LogRecord, type ScannedFields } from '../../sinks/shared/log-record.js'
import { parseLine, type ParseResult } from '../../src/records/parse-line.js'
import { readLine } from '../../src/records/read-line.js'
import { scanLine } from '../../src/records/scan-line.js'

const WRITER = 'host:1:abcd'
const NOW = 1_700_000_000_000
const COLUMN_KEYS = ['time', 'level', 'msg', 'hostname', 'pid', 'trace_id', 'span_id']

/** A value the column rules treat differently: labels, prototype names, times good and bad, limits of smallint and int, escapes Postgres refuses. */
const edgeValue = fc.constantFrom<unknown>(
  'info', 'fatal', 'constructor', 'toString', '2024-11-30T20:53:20.123Z', '2024-11-30', 'not a date', '+275760-09-13T00:00:00.000Z',
  'tab\there', 'back\\slash', 'new\nline', 'nul\u0000', 'lone\ud800', 'quote"d', 'é☃😀', '',
  30, 0, -0, 32767, 32768, 1.5, -1, 1733000000000, 1733000000000.5, 2147483647, 2147483648, 1e21, 253402300799999, 253402300800000, -62135596800001, 1e300,
  null, true, [], {}, { level: 30 },
)
const key = fc.oneof(fc.constantFrom(...COLUMN_KEYS, 'sluice_proof', 'sluice', '__proto__', 'constructor', 'a"b', 'back\\slash', 'é', '', 'x\u0000'), fc.string({ maxLength: 6 }))
const objects = fc.dictionary(key, fc.oneof(edgeValue, fc.jsonValue({ maxDepth: 3 })))
/** The same object written the ways JSON allows: compact, indented, with tabs and CRs between tokens. */
const spacing = fc.constantFrom<string | number>(0, 2, '\t', ' \r ')

/** JSON text pino (or anything) might put after a key, spellings JSON.stringify never makes included. */
const rawValue = fc.oneof(
  fc.json({ maxDepth: 2 }),
  fc.constantFrom(
    '1e400', '1E+02', '1e05', '1e005', '-0', '-0.0e-0', '0.5e-05', '12345678901234567890', `1${'0'.repeat(400)}`, `0.${'1'.repeat(16_300)}`,
    '"\\u0000"', '"\\ud800"', '"\\udc00x"', '"\\\\u0000"', '"\\ud83d\\ude00"', '"\\u0074ab\\t"', '"\\/"', '"2024-11-30T20:53:20Z"', '"\\u0032024-11-30T20:53:20Z"',
    '"inf\\u006f"', '30', '30.0', '3e1', '"x"', '[[[[[[]]]]]]', `${'['.repeat(70)}${']'.repeat(70)}`, '{"sluice_proof":"nested is fine"}',
  ),
)
const rawKey = fc.oneof(
  key.map((k) => JSON.stringify(k)),
  fc.constantFrom('"\\u0074ime"', '"m\\u0073g"', '"sluice_\\u0070roof"', '"le\\u0076el"', '"\\u0000"', '"h\\u006fstname"'),
)
const separator = fc.constantFrom(',', ', ', ' ,\t', '\r\n,', ',\n ')
/** Lines written member by member: duplicate keys, escaped keys, odd number spellings and spacing. */
const handwritten = fc
  .tuple(fc.array(fc.tuple(rawKey, rawValue), { maxLength: 8 }), separator, fc.constantFrom('', ' ', '\t', '\r'))
  .map(([members, sep, pad]) => `${pad}{${members.map(([k, v]) => `${k}:${v}`).join(sep)}}${pad}`)

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.constantFrom('\u0000', '\u001f', '\ud800', '\\', '\\u12', '\\x', '"', ',', ':', '}', '{', ']', '-', '.', 'e', '0', ' ', '\ufeff', 'tru', 'nul'),
)
/** Near-JSON: one cut or one insertion away from a line of the above, so mostly invalid. */
const broken = fc
  .tuple(fc.oneof(handwritten, objects.map((o) => JSON.stringify(o))), fc.nat(), fc.nat({ max: 3 }), nasty)
  .map(([line, at, cut, inserted]) => {
    const i = at % (line.length + 1)
    return line.slice(0, i) + inserted + line.slice(i + cut)
  })

const anyLine = fc.oneof(
  fc.tuple(objects, spacing).map(([o, s]) => JSON.stringify(o, null, s)),
  handwritten,
  broken,
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 40 }),
)

function copyRow(record: LogRecord): Buffer {
  const batch = EncodedBatch.encode([record], WRITER)
  expect(batch.unencodable).toBe(0)
  return Buffer.from(batch.copyData)
}

/** A COPY text field back to its text (NULL as null). */
function fromCopyText(field: string): string | null {
  if (field === '\\N') return null
  return field.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c)
}

/** What jsonb keeps of a JSON text: -0 is 0 to numeric. */
function jsonbContent(text: string): unknown {
  return JSON.parse(text, (_, v: unknown) => (Object.is(v, -0) ? 0 : v))
}

/** The line holds a number JSON.parse makes Infinity. */
function beyondDouble(line: string): boolean {
  let infinite = false
  JSON.parse(line, (_, v: unknown) => {
    if (v === Infinity || v === -Infinity) infinite = true
    return v
  })
  return infinite
}

function parse(line: string): ParseResult {
  try {
    return parseLine(line, Buffer.byteLength(line), 7, NOW)
  } catch {
    return { ok: false }
  }
}

/** Checks one line; says whether the scanner took it. */
function sameAsParsePath(line: string): boolean {
  const scanned = scanLine(line, Buffer.byteLength(line), 7, NOW)
  const parsed = parse(line)
  if (scanned === undefined) {
    // Declining is always allowed; readLine then answers what parseLine answers.
    expect(readLine(line, Buffer.byteLength(line), 7, NOW).ok).toBe(parsed.ok)
    return false
  }
  // Taken: JSON.parse takes the line, and the parse path changes nothing in it.
  if (!parsed.ok) throw new Error(`the scanner took a line the parse path refuses: ${JSON.stringify(line)}`)
  expect(parsed.sanitized).toBe(false)
  expect(parsed.forged).toBeUndefined()
  expect(parsed.usageInvalid).toBeUndefined()
  expect(parsed.record[RAW_LINE]).toBe(line)
  expect(scanned.time).toBe(parsed.record.time)
  expect(scanned.level).toBe(parsed.record.level)
  expect(scanned.bytes).toBe(parsed.record.bytes)
  // What the scanner notes of the line while it passes its strings holds for the whole line (raw controls are never taken).
  expect(scanned[SCANNED]).toMatchObject({ ascii: !/[^\u0020-\u007f]/.test(line), backslash: line.includes('\\') })

  // The same COPY row bytes as the parse path's row cut from the line.
  const bytePath = copyRow(scanned)
  expect(bytePath.equals(copyRow(parsed.record))).toBe(true)

  // The same typed columns and jsonb content as the row serialized from the parsed value. Two exceptions,
  // as on the parse path's cut row: a number beyond a double keeps its digits (serialized, it is null);
  // a raw lone surrogate is U+FFFD in the bytes (serialized, an escape; the worker's lines are decoded
  // UTF-8 and hold none).
  if (line.isWellFormed() && !beyondDouble(line)) {
    const fields = bytePath.toString('utf8').slice(0, -1).split('\t')
    const serialized = encodeCopyRow(toLogRow(parsed.record, WRITER)).slice(0, -1).split('\t')
    expect(fields.slice(0, 9)).toEqual(serialized.slice(0, 9))
    expect(jsonbContent(fromCopyText(fields[9] as string) as string)).toEqual(jsonbContent(fromCopyText(serialized[9] as string) as string))
  }

  // The value, parsed when asked for, is the parse path's.
  expect(scanned.value).toEqual(parsed.record.value)
  return true
}

describe('scanLine against parseLine (property)', () => {
  it('over any line: declines it, or stores exactly what the parse path stores', () => {
    let taken = 0
    let runs = 0
    fc.assert(
      fc.property(anyLine, (line) => {
        runs++
        if (sameAsParsePath(line)) taken++
      }),
      { numRuns: 4000 },
    )
    // Not a vacuous pass: a share of these lines is scanned (most are broken or spaced with tabs, CRs and newlines, which it declines).
    expect(taken).toBeGreaterThan(runs / 20)
  })

  const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
  const safeString = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => s.isWellFormed())
  const safeValue = fc.oneof(safeString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(safeString, fc.integer()), { maxLength: 3 }))
  const pinoLine = fc
    .record(
      {
        level: fc.constantFrom(10, 20, 30, 40, 50, 60),
        time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        pid: fc.nat({ max: 4_194_304 }),
        hostname: safeString,
        trace_id: hex(32),
        span_id: hex(16),
        extra: fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => !COLUMN_KEYS.includes(k) && k !== 'sluice_proof'), safeValue, { maxKeys: 6 }),
        msg: safeString,
      },
      { requiredKeys: ['level', 'time'] },
    )
    .map(({ extra, msg, ...columns }) => JSON.stringify({ ...columns, ...extra, ...(msg === undefined ? {} : { msg }) }))

  it('takes pino-shaped lines (nothing to sanitize, a usable time) and stores them as the parse path does', () => {
    fc.assert(
      fc.property(pinoLine, (line) => {
        // NUL and lone surrogates only arrive escaped; those lines are the parse path's.
        const suspect = /\\u(0000|d[89a-f])/i.test(line)
        expect(sameAsParsePath(line)).toBe(!suspect)
      }),
      { numRuns: 2000 },
    )
  })

  it('leaves spans, metrics, lines to sanitize and unusable times to the parse path', () => {
    for (const line of [
      '{"level":30,"sluice":"span","sluice_proof":"x"}',
      '{"metric":{"name":"m","value":1},"sluice_proof":"x"}',
      '{"msg":"a\\u0000b"}',
      '{"msg":"\\ud800"}',
      '{"time":"yesterday"}',
      '{"time":null}',
      '{"msg":"a","msg":"b"}',
      '{"n":1e400}',
      `{"deep":${'['.repeat(70)}${']'.repeat(70)}}`,
      '[1]',
      '{"a":1}x',
    ]) {
      expect(scanLine(line, line.length, 1, NOW), line).toBeUndefined()
    }
  })

  it('reads a pino line without parsing it, and cuts its data column from the line', () => {
    const line = '{"level":30,"time":1733000000000,"pid":42,"hostname":"box","i":1,"msg":"request handled"}'
    const record = scanLine(line, line.length, 1, NOW) as LogRecord
    const scanned = record[SCANNED] as ScannedFields
    expect(scannedColumns(record, line, scanned, WRITER)).toEqual({ t: 1733000000000, level: 30, msg: 'request handled', hostname: 'box', pid: 42, writer_id: WRITER, seq: 1, trace_id: null, span_id: null })
    expect(scannedData(line, scanned)).toBe('{"i":1}')
    expect(scanned).toMatchObject({ ascii: true, backslash: false })
    expect(copyRow(record as LogRecord).toString('utf8')).toBe(`2024-11-30T20:53:20.000Z\t30\trequest handled\tbox\t42\t${WRITER}\t1\t\\N\t\\N\t{"i":1}\n`)
  })

  it('stores what a stage changed, not the line, once the stage let go of the line', () => {
    const line = '{"level":30,"time":1733000000000,"password":"secret","msg":"login"}'
    const record = scanLine(line, line.length, 1, NOW) as LogRecord
    // What runnerAsStage does for a stage that may rewrite records, then a redacting stage.
    record[RAW_LINE] = undefined
    record.value.password = '[redacted]'
    expect(copyRow(record).toString('utf8')).toContain('{"password":"[redacted]"}')
  })
})
