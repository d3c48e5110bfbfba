import { COUNTER_NAMES, DROP_REASONS, FAIL_REASONS, GAUGES, type CounterName, type DropReason } from '../../counters/counter-names.js'
import type { StatsSnapshot } from '../../stats/stats-snapshot.js'

/** One step of the tail: the new snapshot, per-second rates against the previous one, and what moved. */
export interface TailUpdate {
  snapshot: StatsSnapshot
  /** Undefined on the first snapshot of a writer (nothing to compare with). */
  rates: Partial<Record<CounterName, number>> | undefined
  dropped: number
  failed: number
  /** Records dropped since the previous snapshot, by reason; empty when the drop counter did not move. */
  droppedNow: Partial<Record<DropReason, number>>
}

export function totalDropped(s: StatsSnapshot): number {
  return DROP_REASONS.reduce((sum, reason) => sum + s.counters[`dropped_${reason}`], 0)
}

export function totalFailed(s: StatsSnapshot): number {
  return FAIL_REASONS.reduce((sum, reason) => sum + s.counters[`failed_${reason}`], 0)
}

export function sameWriter(a: StatsSnapshot, b: StatsSnapshot): boolean {
  return a.writer.pid === b.writer.pid && a.writer.hostname === b.writer.hostname && a.writer.started_ms === b.writer.started_ms && a.writer.thread_id === b.writer.thread_id
}

export function tailUpdate(previous: StatsSnapshot | undefined, snapshot: StatsSnapshot): TailUpdate {
  const comparable = previous !== undefined && sameWriter(previous, snapshot) && snapshot.time_ms > previous.time_ms
  const droppedNow: Partial<Record<DropReason, number>> = {}
  let rates: TailUpdate['rates']
  if (comparable) {
    const seconds = (snapshot.time_ms - previous.time_ms) / 1000
    rates = {}
    for (const name of COUNTER_NAMES) {
      if (!GAUGES.has(name)) rates[name] = (snapshot.counters[name] - previous.counters[name]) / seconds
    }
    for (const reason of DROP_REASONS) {
      const moved = snapshot.counters[`dropped_${reason}`] - previous.counters[`dropped_${reason}`]
      if (moved > 0) droppedNow[reason] = moved
    }
  }
  return { snapshot, rates, dropped: totalDropped(snapshot), failed: totalFailed(snapshot), droppedNow }
}

/** A snapshot older than three publishing intervals (and at least 3 s) means the writer stopped publishing. */
export function staleForMs(snapshot: StatsSnapshot, now: number): number | undefined {
  const age = now - snapshot.time_ms
  return age > Math.max(3 * snapshot.interval_ms, 3000) ? age : undefined
}
