/**
 * Fuzzing the line path: random text and bytes through the splitter, the
 * parser and the row encoder must never throw, and every line must be
 * accounted for; end to end, garbage written to the transport is counted and
 * never takes a valid record down with it.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parseLine } from '../../src/records/parse-line.js'
import { LineSplitter } from '../../src/transport/line-splitter.js'
import { encodeCopyRow } from '../../sinks/postgres/copy-log-rows.js'
import { toLogRow } from '../../sinks/postgres/log-row.js'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

const nasty = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', '\ud800', '\udfff', '\\u0000', '\\ud800', '__proto__', 'constructor', '1e400', '-0', '"', '\\'),
)
const jsonish = fc.oneof(
  fc.json({ depthSize: 'medium' }),
  fc.tuple(fc.json(), nasty, fc.json()).map(([a, b, c]) => a + b + c),
  nasty,
  fc.integer({ min: 1, max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.constant('{"a":1,"a":2,"__proto__":{"x":1},"n":123456789012345678901234567890,"s":"\\u0000\\ud800"}'),
)

describe('line path fuzz (property)', () => {
  it('the splitter returns every newline-terminated line exactly once, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\n', ' ')), { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (lines, cuts) => {
        const text = lines.map((l) => `${l}\n`).join('')
        const splitter = new LineSplitter()
        const counter = new LineSplitter()
        const measurer = new LineSplitter()
        const got: string[] = []
        const lengths: number[] = []
        const sizes: number[] = []
        let at = 0
        for (let i = 0; at < text.length; i++) {
          const size = cuts[i % cuts.length] as number
          got.push(...splitter.split(text.slice(at, at + size)))
          lengths.push(...counter.lineSizes(text.slice(at, at + size), Number.MAX_SAFE_INTEGER))
          sizes.push(...measurer.lineSizes(text.slice(at, at + size), 0))
          at += size
        }
        expect(got).toEqual(lines.filter((l) => l.length > 0))
        expect(lengths).toEqual(got.map((l) => l.length))
        expect(sizes).toEqual(got.map((l) => Buffer.byteLength(l)))
        expect(splitter.rest()).toBe('')
      }),
      { numRuns: 300 },
    )
  })

  it('parsing and encoding never throw, and what they produce is storable', () => {
    fc.assert(
      fc.property(jsonish, (line) => {
        const parsed = parseLine(line, Buffer.byteLength(line), 1, Date.now())
        if (!parsed.ok) return
        const row = toLogRow(parsed.record, 'writer')
        const text = JSON.stringify(row)
        expect(text).not.toContain('\\u0000')
        expect(text.isWellFormed()).toBe(true)
        // JSON.stringify escapes a surrogate only when it is lone.
        expect(/\\ud[89a-f][0-9a-f]{2}/i.test(text)).toBe(false)
        expect(Number.isFinite(row.t)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('COPY row encoding (property)', () => {
  it('writes the same time text as toISOString, with or without the per-second cache', () => {
    const row = { level: 30, msg: 'm', hostname: 'h', pid: 1, writer_id: 'w', seq: 1, trace_id: null, span_id: null, data: {} }
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -62135596800000, max: 8.64e15 }), fc.integer({ min: 1.7e12, max: 1.7e12 + 5000 }), fc.double({ min: 0, max: 2e12, noNaN: true })), { maxLength: 20 }), (times) => {
        for (const t of times) expect(encodeCopyRow({ ...row, t }).split('\t')[0]).toBe(new Date(t).toISOString())
      }),
    )
  })

  it('escapes what COPY text format treats specially, and nothing else', () => {
    const row = { t: 0, level: 30, msg: 'a\tb\nc\\d\re', hostname: null, pid: null, writer_id: 'w', seq: 1, trace_id: null, span_id: null, data: { s: 'x\\y' } }
    expect(encodeCopyRow(row)).toBe('1970-01-01T00:00:00.000Z\t30\ta\\tb\\nc\\\\d\\re\t\\N\t\\N\tw\t1\t\\N\t\\N\t{"s":"x\\\\\\\\y"}\n')
  })
})

describe('end-to-end fuzz', () => {
  it('counts every line of random garbage mixed with valid records, and writes all the valid ones', async () => {
    const h = await startTransport({ channel: { maxRecords: 100_000 } })
    const lines = fc.sample(jsonish, { numRuns: 1500, seed: 42 }).map((l) => l.replaceAll('\n', ' '))
    const randomBytes = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), { numRuns: 200, seed: 7 })
    let valid = 0
    for (const [i, line] of lines.entries()) {
      h.transport.write(`${line}\n`)
      if (i % 10 === 0) {
        h.logger.info({ i }, 'valid')
        valid++
      }
    }
    for (const bytes of randomBytes) // thread-stream takes raw bytes too (its types say string); invalid UTF-8 arrives as U+FFFD.
    h.transport.write(Buffer.from(bytes.map((b) => (b === 10 ? 32 : b))) as unknown as string)
    h.transport.write('\n')
    h.logger.info('last')
    valid++
    await h.close()
    const s = h.stats.read()
    expectBalanced(h.stats, expect)
    expect(s.failed).toBe(0)
    expect(await appRowCount(sql, h.table)).toBe(s.written)
    const [row] = await sql`select count(*)::int as n from ${sql(h.table)} where msg = 'valid' or msg = 'last'`
    expect(row?.n).toBe(valid)
  })
})
