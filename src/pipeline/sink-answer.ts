/**
 * A sink's answer to one batch, checked: the counts must sum to the batch
 * size, and a store of record's list of unavailable seqs must name records
 * of the batch, one per unavailable record (anything else is ignored, and
 * the counts stand). The SinkRunner acts on what this returns.
 */
import type { SinkResult } from '../../sinks/sink.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import type { SinkFailReason } from '../counters/sink-counters.js'
import { lowerBound } from '../../sinks/shared/lower-bound.js'

export type Judged =
  | {
      delivered: number
      rejected: number
      unavailable: number
      reason: string | undefined
      /** Checked against the batch (see listedSeqs). */
      unavailableSeqs?: readonly number[]
      /** The answer listed unavailable seqs that do not match: ignored, the counts stand. */
      unlisted?: true
    }
  | { fail: SinkFailReason }

const isCount = (value: unknown, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max

/**
 * Checks a sink's answer: nothing means all delivered; a result must sum to the batch size (the rest is
 * unavailable when neither failure count is given). `seqs` (the batch's, ascending): the store of record's,
 * against which its `unavailableSeqs` are checked; a list that does not match is ignored (the counts stand).
 */
export function judge(value: unknown, n: number, seqs?: Float64Array): Judged {
  if (value === undefined) return { delivered: n, rejected: 0, unavailable: 0, reason: undefined }
  if (value === null || typeof value !== 'object') return { fail: 'invalid_result' }
  const { delivered, rejected, unavailable, reason, unavailableSeqs } = value as SinkResult
  if (!isCount(delivered, n)) return { fail: 'invalid_result' }
  let r = 0
  let u = n - delivered
  if (rejected !== undefined || unavailable !== undefined) {
    r = rejected ?? 0
    u = unavailable ?? 0
    if (!isCount(r, n) || !isCount(u, n) || delivered + r + u !== n) return { fail: 'invalid_result' }
  }
  const judged: Judged = { delivered, rejected: r, unavailable: u, reason: typeof reason === 'string' ? reason : undefined }
  if (seqs === undefined || unavailableSeqs === undefined || (u === 0 && Array.isArray(unavailableSeqs) && unavailableSeqs.length === 0)) return judged
  const listed = listedSeqs(unavailableSeqs, u, seqs)
  if (listed) judged.unavailableSeqs = listed
  else judged.unlisted = true
  return judged
}

/** The batch's seqs, ascending. A loop, sorting only when needed (a batch is in seq order): Float64Array.from with a map and a sort took 25 times as long. */
export function batchSeqs(records: readonly LogRecord[]): Float64Array {
  const seqs = new Float64Array(records.length)
  let ascending = true
  for (let i = 0; i < records.length; i++) {
    const seq = (records[i] as LogRecord).seq
    if (i > 0 && seq < (seqs[i - 1] as number)) ascending = false
    seqs[i] = seq
  }
  return ascending ? seqs : seqs.sort()
}

/** `list` ascending when it holds `count` distinct seqs, each one of the batch's (`seqs`, ascending); else undefined. */
export function listedSeqs(list: unknown, count: number, seqs: Float64Array): number[] | undefined {
  if (!Array.isArray(list) || list.length !== count) return undefined
  if (!list.every((seq) => typeof seq === 'number' && Number.isInteger(seq))) return undefined
  const sorted = Float64Array.from(list as number[]).sort()
  for (let i = 0; i < sorted.length; i++) {
    const seq = sorted[i] as number
    if (i > 0 && seq === sorted[i - 1]) return undefined
    if (seqs[lowerBound(seqs, seq)] !== seq) return undefined
  }
  return Array.from(sorted)
}

export function describeAnswer(value: unknown): string {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return typeof value
  }
}
