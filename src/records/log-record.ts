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
}
