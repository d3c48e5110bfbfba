/** Where a record keeps its raw line (see LogRecord). */
export const RAW_LINE: unique symbol = Symbol('pino-sluice raw line')

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
}
