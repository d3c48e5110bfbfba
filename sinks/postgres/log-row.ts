import type { LogRecord } from '../../src/records/log-record.js'

const SMALLINT_MAX = 32767
const INT_MAX = 2147483647

function isInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
}

/** One logs-table row as the JSON object `jsonb_to_recordset` reads (see logs-schema.ts). */
export interface LogRow {
  t: number
  level: number
  msg: string | null
  hostname: string | null
  pid: number | null
  writer_id: string
  seq: number
  trace_id: string | null
  span_id: string | null
  data: Record<string, unknown>
}

/**
 * Maps a record to its logs-table row. Columns a record fills with the wrong
 * type stay NULL and the value is kept in `data`, so nothing the app logged
 * is lost.
 */
export function toLogRow(record: LogRecord, writerId: string): LogRow {
  const { time: _time, level, msg, hostname, pid, trace_id, span_id, ...data } = record.value
  const row: LogRow = {
    t: record.time,
    level: isInt(record.level, SMALLINT_MAX) ? record.level : 0,
    msg: null,
    hostname: null,
    pid: null,
    writer_id: writerId,
    seq: record.seq,
    trace_id: null,
    span_id: null,
    data,
  }
  if (typeof level !== 'number' || row.level !== level) data.level = level
  if (typeof msg === 'string') row.msg = msg
  else if (msg !== undefined) data.msg = msg
  if (typeof hostname === 'string') row.hostname = hostname
  else if (hostname !== undefined) data.hostname = hostname
  if (isInt(pid, INT_MAX)) row.pid = pid
  else if (pid !== undefined) data.pid = pid
  if (typeof trace_id === 'string') row.trace_id = trace_id
  else if (trace_id !== undefined) data.trace_id = trace_id
  if (typeof span_id === 'string') row.span_id = span_id
  else if (span_id !== undefined) data.span_id = span_id
  return row
}
