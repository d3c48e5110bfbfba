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
 * The fields of a plain log line that the logs table's columns take (see
 * sinks/postgres/log-row.ts), read from the line by the worker's scanner
 * (src/records/scan-line.ts) with the same rules `logColumns` applies to the
 * parsed value: a field of the wrong type is null here and stays in `data`.
 */
export interface ScannedFields {
  readonly msg: string | null
  readonly hostname: string | null
  readonly pid: number | null
  readonly trace_id: string | null
  readonly span_id: string | null
  /** The line's JSON without the members the columns took: what `dataCutter` cuts from it. */
  readonly data: string
  /** The line holds a backslash, or a tab, CR or newline between tokens: `data` needs COPY text escaping. */
  readonly dataNeedsEscaping: boolean
}

/**
 * A record whose line the scanner read (issue 25): most records are plain
 * log lines that only the Postgres store sees, and it writes them from the
 * line, so `value` is parsed only if something asks for it, then kept. Used
 * only where nothing but our own store sees the records: its fields are
 * class members, which a spread (`{ ...record }`) would not copy.
 */
export class LineRecord implements LogRecord {
  [RAW_LINE]: string | undefined
  readonly [SCANNED]: ScannedFields
  readonly #line: string
  #value: Record<string, unknown> | undefined

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
    this[SCANNED] = scanned
  }

  /** The scanner checked that JSON.parse takes the line, and that the value needs nothing changed (no sanitizing, a usable time). */
  get value(): Record<string, unknown> {
    return (this.#value ??= JSON.parse(this.#line) as Record<string, unknown>)
  }

  set value(value: Record<string, unknown>) {
    this.#value = value
  }
}
