/**
 * EncodedBatch: a batch's COPY text made once, then cut by seq for retries
 * and for isolating rejected records, never re-encoded.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCopyRow } from '../../sinks/postgres/copy-log-rows.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { toLogRow } from '../../sinks/postgres/log-row.js'
import { RAW_LINE, type LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine } from '../../src/records/parse-line.js'
import { signedSpan } from '../support/signed-span.js'
import { stringifyOverflowsAt, warnDeepJsonSkip } from '../support/deep-json.js'

const WRITER = 'host:1:abcd'

function record(value: Record<string, unknown>, seq: number): LogRecord {
  const line = JSON.stringify(value)
  const parsed = parseLine(line, Buffer.byteLength(line), seq, 1_700_000_000_000)
  if (!parsed.ok) throw new Error('test record must parse')
  return parsed.record
}

function span(seq: number): LogRecord {
  const start = 1_700_000_000_000
  return record(
    signedSpan({ level: 30, time: start, sluice: 'span', trace_id: 'ab'.repeat(16), span_id: seq.toString(16).padStart(16, '0'), name: `s${seq}`, start_time: start, end_time: start + 1, duration_ms: 1, status: 'ok' }),
    seq,
  )
}

/** What the batch's rows are, in the order the database gets them: log rows' COPY text and span seqs. */
function contents(batch: EncodedBatch): { copy: string; logSeqs: number[]; spanSeqs: number[] } {
  return { copy: batch.copyData.toString('utf8'), logSeqs: [...batch.logSeqs], spanSeqs: batch.spans.map((s) => s.seq) }
}

/** The same rows encoded from scratch: what every cut of a batch must equal. */
function expected(records: readonly LogRecord[]): { copy: string; logSeqs: number[]; spanSeqs: number[] } {
  const logs = records.filter((r) => r.value.sluice !== 'span')
  return { copy: logs.map((r) => encodeCopyRow(toLogRow(r, WRITER))).join(''), logSeqs: logs.map((r) => r.seq), spanSeqs: records.filter((r) => r.value.sluice === 'span').map((r) => r.seq) }
}

const message = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constant('tab\tnew\nline\\back'))
const records = fc
  .array(fc.record({ msg: message, span: fc.boolean(), big: fc.boolean() }), { minLength: 1, maxLength: 40 })
  .map((specs) => specs.map((s, i) => (s.span ? span(i + 1) : record({ level: 30, time: 1_700_000_000_000 + i, msg: s.big ? s.msg.repeat(50) : s.msg, i }, i + 1))))

describe('EncodedBatch', () => {
  it('holds the COPY text every row encodes to, whatever its characters (property)', () => {
    fc.assert(
      fc.property(records, (batch) => {
        expect(contents(EncodedBatch.encode(batch, WRITER))).toEqual(expected(batch))
      }),
    )
  })

  it('splits into two contiguous seq ranges of ceil(n/2) and the rest, logs and spans alike (property)', () => {
    fc.assert(
      fc.property(records.filter((b) => b.length > 1), (batch) => {
        const [low, high] = EncodedBatch.encode(batch, WRITER).halves()
        const middle = Math.ceil(batch.length / 2)
        expect(contents(low)).toEqual(expected(batch.slice(0, middle)))
        expect(contents(high)).toEqual(expected(batch.slice(middle)))
        expect(low.seqRange()?.last).toBeLessThan(high.seqRange()?.first as number)
      }),
    )
  })

  it('keeps the rows a seq filter accepts, and halves of what it kept still split right (property)', () => {
    fc.assert(
      fc.property(records, fc.func(fc.boolean()), (batch, wanted) => {
        const kept = EncodedBatch.encode(batch, WRITER).keep((seq) => wanted(seq))
        const survivors = batch.filter((r) => wanted(r.seq))
        expect(contents(kept)).toEqual(expected(survivors))
        expect(kept.size).toBe(survivors.length)
        if (survivors.length > 1) expect(contents(kept.halves()[1])).toEqual(expected(survivors.slice(Math.ceil(survivors.length / 2))))
      }),
    )
  })

  it('reports the seq range across logs and spans, and none when empty', () => {
    const batch = EncodedBatch.encode([span(3), record({ msg: 'a' }, 4), record({ msg: 'b' }, 7), span(9)], WRITER)
    expect(batch.seqRange()).toEqual({ first: 3, last: 9 })
    expect(batch.keep(() => false).seqRange()).toBeUndefined()
    expect(batch.keep(() => false).copyData.length).toBe(0)
  })

  const deepOverflows = stringifyOverflowsAt(100_000)
  if (!deepOverflows) warnDeepJsonSkip('EncodedBatch leaving out a record nested deeper than the stack')
  it.skipIf(!deepOverflows)('leaves out, and counts, a record it cannot encode (re-serializing a value nested deeper than the stack)', () => {
    const deep = record({ msg: 'deep' }, 2)
    let inner: Record<string, unknown> = { end: true }
    for (let i = 0; i < 100_000; i++) inner = { a: inner }
    deep.value.d = inner
    deep[RAW_LINE] = undefined
    const batch = EncodedBatch.encode([record({ msg: 'a' }, 1), deep, record({ msg: 'b' }, 3)], WRITER)
    expect([...batch.logSeqs]).toEqual([1, 3])
    expect(batch.unencodable).toBe(1)
    expect(String(batch.encodeError)).toContain('call stack')
  })

  it('grows past its first guess when rows encode longer than their lines (escapes, multi-byte text)', () => {
    const heavy = Array.from({ length: 20 }, (_, i) => record({ msg: '\\'.repeat(500) + '€'.repeat(300) }, i + 1))
    expect(contents(EncodedBatch.encode(heavy, WRITER))).toEqual(expected(heavy))
  })
})
