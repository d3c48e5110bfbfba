import { markSinkRegion, readSinkRegion, SINK_REGION_SLOTS, type SinkStatsMap } from './sink-counters.js'
import { APP_REGION_OFFSET, COUNTER_INDEX, COUNTER_NAMES, SHARED_COUNTER_SLOTS, DROP_REASONS, FAIL_REASONS, type CounterName, type DropReason, type FailReason } from './counter-names.js'

export type FlatCounters = Record<CounterName, number>

/** The two totals derived from the reason counters, shown next to them everywhere (stats, file, exit line). */
export interface CounterTotals {
  /** Sum of every `dropped_<reason>`. */
  dropped: number
  /** Sum of every `failed_<reason>`. */
  failed: number
}

/** Names that existed before one name per counter (issue 16); readable but not enumerable, so not in JSON. */
interface DeprecatedStats {
  /** @deprecated use `dropped_<reason>` */
  readonly droppedBy: Record<DropReason, number>
  /** @deprecated use `failed_<reason>` */
  readonly failedBy: Record<FailReason, number>
  /** @deprecated use `queued_records` */
  readonly queuedRecords: number
  /** @deprecated use `queued_bytes` */
  readonly queuedBytes: number
  /** @deprecated use `offloaded_bytes` */
  readonly offloadedBytes: number
  /** @deprecated use `offload_failed` */
  readonly offloadFailed: number
  /** @deprecated use `metrics_sent` */
  readonly metricsSent: number
  /** @deprecated use `metrics_dropped` */
  readonly metricsDropped: number
  /** @deprecated use `worker_heap_bytes` */
  readonly workerHeapBytes: number
}

/**
 * The counters as `stats.read()` returns them: every counter under its one
 * name (the same in the stats file, `/stats`, `/metrics`, Postgres,
 * CloudWatch and the exit line), plus the `dropped` and `failed` totals.
 */
export type SluiceStats = FlatCounters & CounterTotals & DeprecatedStats & SinkTotals

/** Per sink (store of record, stages, fan-out sinks): records delivered, and failed by reason. */
export interface SinkTotals {
  sinks: SinkStatsMap
}

export function counterTotals(flat: FlatCounters): CounterTotals {
  return {
    dropped: DROP_REASONS.reduce((sum, reason) => sum + (flat[`dropped_${reason}`] ?? 0), 0),
    failed: FAIL_REASONS.reduce((sum, reason) => sum + (flat[`failed_${reason}`] ?? 0), 0),
  }
}

const CAMEL_ALIASES: readonly [keyof DeprecatedStats, CounterName][] = [
  ['queuedRecords', 'queued_records'],
  ['queuedBytes', 'queued_bytes'],
  ['offloadedBytes', 'offloaded_bytes'],
  ['offloadFailed', 'offload_failed'],
  ['metricsSent', 'metrics_sent'],
  ['metricsDropped', 'metrics_dropped'],
  ['workerHeapBytes', 'worker_heap_bytes'],
]

/** Builds `stats.read()`'s shape from the flat counters: the counters, the totals, and the old names as hidden aliases. */
export function statsFromCounters(flat: FlatCounters, sinks: SinkStatsMap = {}): SluiceStats {
  const stats = { ...flat, ...counterTotals(flat), sinks } as SluiceStats
  const hidden = (name: string, value: unknown): void => void Object.defineProperty(stats, name, { value, enumerable: false })
  for (const [alias, name] of CAMEL_ALIASES) hidden(alias, flat[name])
  hidden('droppedBy', Object.fromEntries(DROP_REASONS.map((r) => [r, flat[`dropped_${r}`]])))
  hidden('failedBy', Object.fromEntries(FAIL_REASONS.map((r) => [r, flat[`failed_${r}`]])))
  return stats
}

export interface StatsHandle {
  /** Pass this as `options.counters` of the transport. */
  readonly buffer: SharedArrayBuffer
  /** Reads the worker's counters live, under their one names plus `dropped`/`failed`; costs a few atomic loads. */
  read(): SluiceStats
  /** The counters alone (no totals). */
  readFlat(): FlatCounters
}

/**
 * Creates the shared counters the transport worker publishes into.
 *
 * ```js
 * const stats = createStats()
 * const transport = pino.transport({ target: 'pino-sluice', options: { counters: stats.buffer, … } })
 * stats.read().dropped_overflow
 * ```
 */
export function createStats(): StatsHandle {
  // The sink region goes last (see sink-counters.ts).
  const buffer = new SharedArrayBuffer((SHARED_COUNTER_SLOTS + SINK_REGION_SLOTS) * BigInt64Array.BYTES_PER_ELEMENT)
  markSinkRegion(buffer)
  const view = new BigInt64Array(buffer, 0, SHARED_COUNTER_SLOTS)
  const slot = (index: number): number => Number(Atomics.load(view, index))
  const readFlat = (): FlatCounters =>
    Object.fromEntries(COUNTER_NAMES.map((name) => [name, slot(COUNTER_INDEX[name]) + slot(APP_REGION_OFFSET + COUNTER_INDEX[name])])) as FlatCounters
  return { buffer, readFlat, read: () => statsFromCounters(readFlat(), readSinkRegion(buffer)) }
}
