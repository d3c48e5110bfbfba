import { parseLine, type ParseResult } from './parse-line.js'
import { scanLine } from './scan-line.js'

/**
 * A line into a record, the way that costs least: the scanner for a plain
 * log line (its value parsed only if asked for), the parse path for anything
 * else (spans, metrics, lines to sanitize, invalid JSON). Only for records
 * that nothing but the Postgres store sees (see LineRecord).
 */
export function readLine(line: string, bytes: number, seq: number, now: number): ParseResult {
  const record = scanLine(line, bytes, seq, now)
  return record === undefined ? parseLine(line, bytes, seq, now) : { ok: true, record, sanitized: false }
}

/**
 * How lines become records for a pipeline (live batches and replay alike):
 * scanned only when the Postgres store is the one thing that sees them (no
 * stage, no fan-out sink reads `value`), else parsed.
 */
export function lineReader(storeKind: string, stageCount: number, fanOut: boolean): typeof parseLine {
  return storeKind === 'postgres' && stageCount === 0 && !fanOut ? readLine : parseLine
}
