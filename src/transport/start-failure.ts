import { writeSync } from 'node:fs'
import { COUNTER_SLOTS, type FailReason } from '../counters/counter-names.js'
import { Counters } from '../counters/counters.js'
import { closeAndCountUnreadLines } from './count-unread-lines.js'
import { exitReport } from './exit-report.js'

/**
 * When pino.transport()'s worker cannot start (a mistake in the options):
 * the lines the app logged meanwhile are counted `failed_<store>_unavailable`
 * (never stored, never lost uncounted) in the app's counters buffer when it
 * passed one, and the error and the totals go to stderr, since an app that
 * logged and ended at once may be gone before the error event reaches it.
 * The caller then throws: the transport's `error` event, before `ready`, as
 * always. createSluice() checks its options on the app thread and throws
 * before taking any line, so it never gets here.
 */
export function reportStartFailure(rawOptions: unknown, error: unknown): void {
  const root = rawOptions !== null && typeof rawOptions === 'object' ? (rawOptions as Record<string, unknown>) : {}
  const buffer = root.counters instanceof SharedArrayBuffer && root.counters.byteLength >= COUNTER_SLOTS * 8 ? root.counters : undefined
  const counters = new Counters(buffer)
  const lines = closeAndCountUnreadLines()
  const reason: FailReason = storeIsPostgres(root) ? 'db_unavailable' : 'store_unavailable'
  counters.add('received', lines)
  counters.fail(reason, lines)
  counters.publish()
  writeSync(2, `pino-sluice: the transport cannot start: ${error instanceof Error ? error.message : String(error)}\n`)
  const report = exitReport(counters)
  if (report) writeSync(2, report)
}

/** The store of record the options asked for, read as leniently as a broken config needs. */
function storeIsPostgres(root: Record<string, unknown>): boolean {
  const sinks = Array.isArray(root.sinks) ? root.sinks : []
  const otherStore = sinks.some((s: unknown) => s !== null && typeof s === 'object' && (s as { role?: unknown }).role === 'store')
  return root.postgres !== false && root.file === undefined && !otherStore
}
