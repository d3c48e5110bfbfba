/** Where a record keeps its raw line (see LogRecord). */
export const RAW_LINE: unique symbol = Symbol('pino-sluice raw line')

/** Where a record read by the worker's line scanner keeps what it found (see ScannedFields). */
export const SCANNED: unique symbol = Symbol('pino-sluice scanned fields')

/** One parsed record on its way to the sinks. */
export interface LogRecord {
  /** Per-writer sequence number; with the writer id it makes retries idempotent. */
  seq: number
  /** Event time in epoch milliseconds (from the record, else the time it was read). */
  time: number
  /** pino level number; 0 when the record has none. */
  level: number
  /** UTF-8 size of the raw line. */
  bytes: number
  /** Every field of the record; stages may rewrite fields (e.g. offloading a payload). */
  value: Record<string, unknown>
  /**
   * The raw line (without its newline) while `value` is exactly what it
   * says; undefined once something changed `value` (sanitizing, an unusable
   * time kept as `time_invalid`, an offloaded payload, a custom stage). Lets
   * the Postgres sink cut `data` from the line instead of re-serializing
   * `value`. Keyed by a symbol, so sinks that serialize records do not see it.
   */
  [RAW_LINE]?: string | undefined
  /** Set on a LineRecord: the logs-table fields its line holds, read without parsing it. */
  readonly [SCANNED]?: ScannedFields
}

/**
 * Where the fields of a plain log line that the logs table's columns take
 * are in the line (see sinks/postgres/log-row.ts), found by the worker's
 * scanner (src/records/scan-line.ts) with the rules `logColumns` applies to
 * the parsed value: a field of the wrong type is NULL here and stays in
 * `data`. Positions, not strings, so that the Postgres store copies the
 * row's text from the line itself (sinks/postgres/scanned-row.ts).
 */
export interface ScannedFields {
  /** A string column's text in the line, between its quotes: [at, end); at is -1 for NULL. */
  readonly msgAt: number
  readonly msgEnd: number
  readonly hostnameAt: number
  readonly hostnameEnd: number
  readonly traceIdAt: number
  readonly traceIdEnd: number
  readonly spanIdAt: number
  readonly spanIdEnd: number
  /** Which of those hold JSON escapes (ESCAPED_MSG…): their text is read with JSON.parse. */
  readonly escaped: number
  readonly pid: number | null
  /**
   * The data column: the line's members no column took, in runs of the line: the first run is [dataAt,
   * dataEnd) (dataAt -1 when there is none), the others (rare: a column field between two others) are
   * [start, end) pairs in moreData. data is `{`, the runs joined by `,`, `}`.
   */
  readonly dataAt: number
  readonly dataEnd: number
  readonly moreData: readonly number[] | undefined
  /** The line holds a backslash: its text needs COPY text escaping (no other character does: the scanner takes no raw control characters). */
  readonly backslash: boolean
  /** The line is ASCII: each of its UTF-16 units is one UTF-8 byte, so its text can be copied unit by unit. */
  readonly ascii: boolean
}

export const ESCAPED_MSG = 1
export const ESCAPED_HOSTNAME = 2
export const ESCAPED_TRACE_ID = 4
export const ESCAPED_SPAN_ID = 8

/**
 * A record whose line the scanner read (issue 25): most records are plain
 * log lines that only the Postgres store sees, and it writes them from the
 * line, so `value` is parsed only if something asks for it, then kept. Used
 * only where nothing but our own store sees the records: its fields are
 * class members, which a spread (`{ ...record }`) would not copy.
 *
 * It holds what the scanner found itself (`[SCANNED]` is the record): one
 * object per line, not two. A burst's records live from the scan until their
 * batch is encoded, and each object alive when the young generation is
 * collected is copied.
 */
export class LineRecord implements LogRecord, ScannedFields {
  [RAW_LINE]: string | undefined
  readonly [SCANNED]: ScannedFields = this
  readonly msgAt: number
  readonly msgEnd: number
  readonly hostnameAt: number
  readonly hostnameEnd: number
  readonly traceIdAt: number
  readonly traceIdEnd: number
  readonly spanIdAt: number
  readonly spanIdEnd: number
  readonly escaped: number
  readonly pid: number | null
  readonly dataAt: number
  readonly dataEnd: number
  readonly moreData: readonly number[] | undefined
  readonly backslash: boolean
  readonly ascii: boolean
  readonly #line: string
  #value: Record<string, unknown> | undefined

  /** `scanned` is read, not kept: the scanner passes the same object for every line. */
  constructor(
    public seq: number,
    public time: number,
    public level: number,
    public bytes: number,
    line: string,
    scanned: ScannedFields,
  ) {
    this.#line = line
    this[RAW_LINE] = line
    this.msgAt = scanned.msgAt
    this.msgEnd = scanned.msgEnd
    this.hostnameAt = scanned.hostnameAt
    this.hostnameEnd = scanned.hostnameEnd
    this.traceIdAt = scanned.traceIdAt
    this.traceIdEnd = scanned.traceIdEnd
    this.spanIdAt = scanned.spanIdAt
    this.spanIdEnd = scanned.spanIdEnd
    this.escaped = scanned.escaped
    this.pid = scanned.pid
    this.dataAt = scanned.dataAt
    this.dataEnd = scanned.dataEnd
    this.moreData = scanned.moreData
    this.backslash = scanned.backslash
    this.ascii = scanned.ascii
  }

  /** The scanner checked that JSON.parse takes the line, and that the value needs nothing changed (no sanitizing, a usable time). */
  get value(): Record<string, unknown> {
    return (this.#value ??= JSON.parse(this.#line) as Record<string, unknown>)
  }

  set value(value: Record<string, unknown>) {
    this.#value = value
  }
}
