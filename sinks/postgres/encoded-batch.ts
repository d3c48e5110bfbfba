import { RAW_LINE, SCANNED, type LogRecord } from '../shared/log-record.js'
import { isSpanValue } from '../shared/span-record.js'
import type { SeqRange } from './commit-ledger.js'
import { copyText, encodeCopyColumns, encodeCopyRow } from './copy-log-rows.js'
import { dataCutter } from './data-from-line.js'
import { COLUMN_FIELDS, isTaken, logColumns, toLogRow } from './log-row.js'
import { maxAsciiRowBytes, scannedRowText, writeAsciiRow, writerIdBytes } from './scanned-row.js'
import { toSpanRow, type SpanRow } from './span-row.js'
import { lowerBound } from '../shared/lower-bound.js'
import { CopyTextLease, type CopyTextPool } from './copy-text-pool.js'

/** A UTF-16 unit is at most 3 UTF-8 bytes: room for this many bytes per unit always fits a row. */
const MAX_BYTES_PER_UNIT = 3
/** COPY text a log row adds to its raw line (writer id, ISO time, tabs), for the first guess of the buffer's size. */
const ROW_OVERHEAD_BYTES = 96

/**
 * A batch in the form Postgres takes it, made once, as soon as the batch
 * reaches the sink: the log rows as COPY text in one Buffer (outside the JS
 * heap), their seqs and times in typed arrays, and the span rows (few) as
 * objects.
 *
 * Why: a batch waits for a connection and then for its COMMIT, and whatever
 * it holds meanwhile outlives the young generation. Held as parsed records
 * and row objects, a burst's batches were copied by every scavenge and then
 * promoted: garbage collection was a third of the worker's CPU
 * (bench:profile). Held like this, a batch is a handful of objects.
 *
 * Retries and the isolation of rejected records cut the batch by seq, never
 * re-encoding: `halves()` splits at a seq (a half is a contiguous seq range,
 * which the commit check relies on) and `keep()` filters by seq.
 */
export class EncodedBatch {
  private constructor(
    /** Whose rows these are: this process's writer, or an earlier one's for records replayed from the disk spool. */
    readonly writerId: string,
    /** COPY text of the log rows, back to back. */
    private readonly text: Buffer,
    /** Log row i is `text[bounds[i], bounds[i + 1])`; length is the number of log rows + 1. */
    private readonly bounds: Uint32Array,
    /** Ascending, as records are numbered in the order they are read. */
    readonly logSeqs: Float64Array,
    readonly logTimes: Float64Array,
    readonly spans: readonly SpanRow[],
    /** Records given to `encode` that could not be encoded (not in the batch: the sink counts them rejected), and why the first failed. */
    readonly unencodable = 0,
    readonly encodeError: unknown = undefined,
    /** With a pool: whose holders decide when `text` may be used again (shared with the halves). */
    private readonly lease: CopyTextLease | undefined = undefined,
  ) {}

  /** `pool`: where the text buffer comes from, and goes back to once every holder has released it. */
  static encode(records: readonly LogRecord[], writerId: string, pool?: CopyTextPool): EncodedBatch {
    let estimate = 0
    for (const record of records) estimate += record.bytes + ROW_OVERHEAD_BYTES
    const bytes = Math.max(estimate, 1024)
    let text = newText(bytes, pool)
    // Sized for every record a log row (spans and unencodable records leave the end unused): no arrays grown and copied.
    const bounds = new Uint32Array(records.length + 1)
    const logSeqs = new Float64Array(records.length)
    const logTimes = new Float64Array(records.length)
    let rows = 0
    const spans: SpanRow[] = []
    const writerBytes = writerIdBytes(writerId)
    let end = 0
    let unencodable = 0
    let firstError: unknown
    for (const record of records) {
      const line = record[RAW_LINE]
      const scanned = record[SCANNED]
      if (line !== undefined && scanned?.ascii) {
        // Read by the scanner, and ASCII: the row is copied from the line into the buffer (scanned-row.ts).
        const room = maxAsciiRowBytes(line, writerBytes.length)
        if (text.length - end < room) text = grown(text, end, room, pool)
        end = writeAsciiRow(text, end, record, line, scanned, writerBytes)
        logSeqs[rows] = record.seq
        logTimes[rows] = record.time
        bounds[++rows] = end
        continue
      }
      let span: SpanRow | undefined
      let row: string
      try {
        // A scanned line is never a span (the scanner leaves lines with a proof to the parse path): its value stays unparsed.
        span = record[SCANNED] === undefined && isSpanValue(record.value) ? toSpanRow(record, writerId) : undefined
        if (span) {
          spans.push(span)
          continue
        }
        row = encodeLogRecord(record, writerId)
      } catch (error) {
        // A value JSON.stringify cannot write (nested deeper than the stack): this record alone is refused.
        unencodable++
        firstError ??= error
        continue
      }
      if (text.length - end < row.length * MAX_BYTES_PER_UNIT) text = grown(text, end, row.length * MAX_BYTES_PER_UNIT, pool)
      end += text.write(row, end)
      logSeqs[rows] = record.seq
      logTimes[rows] = record.time
      bounds[++rows] = end
    }
    const whole = rows === records.length
    return new EncodedBatch(
      writerId,
      text,
      whole ? bounds : bounds.subarray(0, rows + 1),
      whole ? logSeqs : logSeqs.subarray(0, rows),
      whole ? logTimes : logTimes.subarray(0, rows),
      spans,
      unencodable,
      firstError,
      pool ? new CopyTextLease(text, pool) : undefined,
    )
  }

  /** One more reader of the COPY text (a database attempt) until it calls `release()`. */
  hold(): void {
    this.lease?.hold()
  }

  /** This reader is done with the COPY text: the last one gives the buffer back to the pool. */
  release(): void {
    this.lease?.release()
  }

  /** Log rows and span rows. */
  get size(): number {
    return this.logSeqs.length + this.spans.length
  }

  /** The COPY data of the log rows (a view, not a copy). */
  get copyData(): Buffer {
    return this.text.subarray(this.bounds[0], this.bounds[this.logSeqs.length])
  }

  /** The seqs of its rows, log rows (ascending) then span rows: what the sink names as unavailable when it gives up on them. */
  seqs(): number[] {
    const seqs = Array.from(this.logSeqs)
    for (const span of this.spans) seqs.push(span.seq)
    return seqs
  }

  /** The lowest and highest seq in the batch (what its ledger row records); undefined when it is empty. */
  seqRange(): SeqRange | undefined {
    let first = this.logSeqs[0] ?? Number.POSITIVE_INFINITY
    let last = this.logSeqs[this.logSeqs.length - 1] ?? Number.NEGATIVE_INFINITY
    for (const span of this.spans) {
      first = Math.min(first, span.seq)
      last = Math.max(last, span.seq)
    }
    return this.size === 0 ? undefined : { first, last }
  }

  /** The rows below the median seq and the rest: two contiguous seq ranges. */
  halves(): [EncodedBatch, EncodedBatch] {
    const seqs = Float64Array.from([...this.logSeqs, ...this.spans.map((span) => span.seq)]).sort()
    const at = seqs[Math.ceil(seqs.length / 2)] ?? Number.POSITIVE_INFINITY
    const split = lowerBound(this.logSeqs, at)
    return [
      this.logSlice(0, split, this.spans.filter((span) => span.seq < at)),
      this.logSlice(split, this.logSeqs.length, this.spans.filter((span) => span.seq >= at)),
    ]
  }

  /** The rows whose seq `wanted` accepts. */
  keep(wanted: (seq: number) => boolean): EncodedBatch {
    const spans = this.spans.filter((span) => wanted(span.seq))
    const kept: number[] = []
    let bytes = 0
    for (let i = 0; i < this.logSeqs.length; i++) {
      if (!wanted(this.logSeqs[i] as number)) continue
      kept.push(i)
      bytes += (this.bounds[i + 1] as number) - (this.bounds[i] as number)
    }
    if (kept.length === this.logSeqs.length) return spans.length === this.spans.length ? this : this.logSlice(0, kept.length, spans)
    const text = Buffer.allocUnsafe(bytes)
    const bounds = new Uint32Array(kept.length + 1)
    let end = 0
    for (const [k, i] of kept.entries()) {
      end += this.text.copy(text, end, this.bounds[i], this.bounds[i + 1])
      bounds[k + 1] = end
    }
    const pick = (values: Float64Array) => Float64Array.from(kept, (i) => values[i] as number)
    return new EncodedBatch(this.writerId, text, bounds, pick(this.logSeqs), pick(this.logTimes), spans)
  }

  /** Log rows `[from, to)` (sharing this batch's text) with `spans`. */
  private logSlice(from: number, to: number, spans: readonly SpanRow[]): EncodedBatch {
    return new EncodedBatch(this.writerId, this.text, this.bounds.subarray(from, to + 1), this.logSeqs.subarray(from, to), this.logTimes.subarray(from, to), spans, 0, undefined, this.lease)
  }
}

const dataOfLine = dataCutter(COLUMN_FIELDS)

/** A log record's COPY row; `data` is cut from the raw line while the record still says what its line says (`RAW_LINE`). */
function encodeLogRecord(record: LogRecord, writerId: string): string {
  const line = record[RAW_LINE]
  if (line !== undefined) {
    // Read by the scanner (src/records/scan-line.ts): the columns and `data` are where it found them in the line.
    const scanned = record[SCANNED]
    if (scanned !== undefined) return scannedRowText(record, line, scanned, writerId)
    const columns = logColumns(record, writerId)
    const data = dataOfLine(line, (key) => isTaken(key, columns, record.value))
    if (data !== undefined) return encodeCopyColumns(columns, copyText(data))
  }
  // The record no longer says what its line says, or the line holds a number jsonb refuses as written.
  return encodeCopyRow(toLogRow(record, writerId))
}

/** A buffer for COPY text of at least `bytes`: from the pool when there is one. */
function newText(bytes: number, pool: CopyTextPool | undefined): Buffer {
  return pool ? pool.take(bytes) : Buffer.allocUnsafe(bytes)
}

/** A copy of `text[0, used)` in a buffer at least `needed` bytes larger; `text` goes back to the pool (nothing else has seen it). */
function grown(text: Buffer, used: number, needed: number, pool: CopyTextPool | undefined): Buffer {
  const larger = newText(Math.max(text.length * 2, used + needed), pool)
  text.copy(larger, 0, 0, used)
  pool?.give(text)
  return larger
}
