import { DROP_REASONS, FAIL_REASONS } from '../counters/counter-names.js'
import type { Counters } from '../counters/counters.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'

export type DropTally = Readonly<Record<string, number>>

/** Marks notice rows in `data` so queries can tell them from app records. */
export const NOTICE_FIELD = 'pino_sluice'

function tallyOf(counters: Counters): DropTally {
  const tally: Record<string, number> = {}
  const all = counters.snapshot()
  for (const reason of DROP_REASONS) tally[`dropped_${reason}`] = all[`dropped_${reason}`]
  for (const reason of FAIL_REASONS) tally[`failed_${reason}`] = all[`failed_${reason}`]
  return tally
}

/**
 * A synthetic warn row saying how many records were dropped or failed since
 * the previous notice, so losses are visible where people read logs. Notice
 * rows are not app records: they are not counted as received or written.
 */
export function dropNotice(counters: Counters, previous: DropTally | undefined, seq: number): { record: LogRecord; tally: DropTally } | undefined {
  const tally = tallyOf(counters)
  const delta: Record<string, number> = {}
  let dropped = 0
  let failed = 0
  for (const [name, value] of Object.entries(tally)) {
    const change = value - (previous?.[name] ?? 0)
    if (change <= 0) continue
    delta[name] = change
    if (name.startsWith('dropped_')) dropped += change
    else failed += change
  }
  if (dropped + failed === 0) return undefined
  const msg = `pino-sluice dropped ${dropped} records` + (failed > 0 ? ` and failed to write ${failed}` : '')
  const value = { level: 40, msg, [NOTICE_FIELD]: { notice: 'losses', since_last_notice: delta, totals: tally } }
  return { tally, record: { seq, time: Date.now(), level: 40, bytes: 0, value } }
}
