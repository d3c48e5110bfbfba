import type { LogRecord } from '../../src/records/log-record.js'
import { COPY_NULL, copyJson, copyOptionalText, copyText, copyTime } from './copy-text.js'

const SMALLINT_MAX = 32767
const INT_MAX = 2147483647

function isInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
}

/**
 * One logs-table row in COPY text format (ends with a newline). Columns that
 * a record fills with the wrong type stay NULL and the value is kept in
 * `data`, so nothing the app logged is lost.
 */
export function encodeLogRow(record: LogRecord, writerId: string): string {
  const { time: _time, level: _level, msg, hostname, pid, trace_id, span_id, ...rest } = record.value
  if (msg !== undefined && typeof msg !== 'string') rest.msg = msg
  if (hostname !== undefined && typeof hostname !== 'string') rest.hostname = hostname
  if (pid !== undefined && !isInt(pid, INT_MAX)) rest.pid = pid
  if (trace_id !== undefined && typeof trace_id !== 'string') rest.trace_id = trace_id
  if (span_id !== undefined && typeof span_id !== 'string') rest.span_id = span_id
  const level = isInt(record.level, SMALLINT_MAX) ? record.level : 0
  if (level !== record.level || (_level !== undefined && typeof _level !== 'number')) rest.level = _level
  return (
    copyTime(record.time) + '\t' +
    level + '\t' +
    copyOptionalText(msg) + '\t' +
    copyOptionalText(hostname) + '\t' +
    (isInt(pid, INT_MAX) ? String(pid) : COPY_NULL) + '\t' +
    copyText(writerId) + '\t' +
    record.seq + '\t' +
    copyOptionalText(trace_id) + '\t' +
    copyOptionalText(span_id) + '\t' +
    copyJson(JSON.stringify(rest)) + '\n'
  )
}
