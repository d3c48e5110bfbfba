import { markSinkRegion, readSinkRegion, SINK_REGION_SLOTS, type SinkStatsMap } from './sink-counters.js'
import { APP_REGION_OFFSET, COUNTER_INDEX, COUNTER_NAMES, SHARED_COUNTER_SLOTS, DROP_REASONS, FAIL_REASONS, type CounterName, type DropReason, type FailReason } from './counter-names.js'

/** The counters in the shape people read: totals plus per-reason maps. */
export interface SluiceStats {
  received: number
  written: number
  dropped: number
  failed: number
  droppedBy: Record<DropReason, number>
  failedBy: Record<FailReason, number>
  queuedRecords: number
  queuedBytes: number
  batches: number
  retries: number
  sanitized: number
  offloaded: number
  offloadedBytes: number
  offloadFailed: number
  metricsSent: number
  metricsDropped: number
  spans: number
  /** V8 heap in use by the worker thread, sampled at most every 100 ms. */
  workerHeapBytes: number
  /** Per sink (store of record, stages, fan-out sinks): records delivered, and failed by reason. */
  sinks: SinkStatsMap
}

export type FlatCounters = Record<CounterName, number>

/** Builds the readable stats shape from the flat counter names. */
export function statsFromCounters(flat: FlatCounters, sinks: SinkStatsMap = {}): SluiceStats {
  const droppedBy = Object.fromEntries(DROP_REASONS.map((r) => [r, flat[`dropped_${r}`] ?? 0])) as Record<DropReason, number>
  const failedBy = Object.fromEntries(FAIL_REASONS.map((r) => [r, flat[`failed_${r}`] ?? 0])) as Record<FailReason, number>
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0)
  return {
    received: flat.received,
    written: flat.written,
    dropped: sum(droppedBy),
    failed: sum(failedBy),
    droppedBy,
    failedBy,
    queuedRecords: flat.queued_records,
    queuedBytes: flat.queued_bytes,
    batches: flat.batches,
    retries: flat.retries,
    sanitized: flat.sanitized,
    offloaded: flat.offloaded,
    offloadedBytes: flat.offloaded_bytes,
    offloadFailed: flat.offload_failed,
    metricsSent: flat.metrics_sent,
    metricsDropped: flat.metrics_dropped,
    spans: flat.spans,
    workerHeapBytes: flat.worker_heap_bytes,
    sinks,
  }
}

export interface StatsHandle {
  /** Pass this as `options.counters` of the transport. */
  readonly buffer: SharedArrayBuffer
  /** Reads the worker's counters live; costs a few atomic loads. */
  read(): SluiceStats
  /** The same values under their flat names (`dropped_overflow`, …). */
  readFlat(): FlatCounters
}

/**
 * Creates the shared counters the transport worker publishes into.
 *
 * ```js
 * const stats = createStats()
 * const transport = pino.transport({ target: 'pino-sluice', options: { counters: stats.buffer, … } })
 * stats.read().dropped
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
