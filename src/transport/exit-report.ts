import type { CounterName } from '../counters/counter-names.js'
import type { Counters } from '../counters/counters.js'
import { counterTotals } from '../counters/stats.js'

/**
 * Losses outside the record accounting: a payload kept inline or truncated,
 * metrics that never reached CloudWatch, model usage recorded only in part.
 */
export const SIDE_LOSSES: readonly CounterName[] = ['offload_failed', 'metrics_invalid', 'metrics_cardinality', 'metrics_lost', 'metrics_dropped', 'usage_invalid', 'sink_background_errors', 'spool_corrupt_frames']

/** One stderr line with the totals, printed on close only when something was lost. */
export function exitReport(counters: Counters): string | undefined {
  const all = counters.snapshot()
  const { dropped, failed } = counterTotals(all)
  const losses = Object.entries(all).filter(
    ([name, value]) => value > 0 && (name.startsWith('dropped_') || name.startsWith('failed_') || SIDE_LOSSES.includes(name as CounterName)),
  )
  // A fan-out sink's failures are losses too, though they never change `written`.
  const sinkLosses = counters.sinks
    .lossesBesideTheStore()
    .map(([name, stats]) => `sinks.${name}.delivered=${stats.delivered} sinks.${name}.failed=${stats.failed}`)
  if (losses.length === 0 && sinkLosses.length === 0) return undefined
  const reasons = [...losses.map(([name, value]) => `${name}=${value}`), ...sinkLosses].join(' ')
  const { received, written } = all
  return `pino-sluice: received=${received} written=${written} dropped=${dropped} failed=${failed} (${reasons})\n`
}

/** One stderr line when records wait in the spool at exit: how many, and where the next process finds them. */
export function spoolExitReport(counters: Counters, path: string | undefined): string | undefined {
  const waiting = counters.values.spool_records
  if (path === undefined || waiting === 0) return undefined
  return `pino-sluice: spool_records=${waiting} wait in the spool at ${path}; the next process started with the same spool.dir replays them\n`
}
