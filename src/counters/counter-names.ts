/**
 * One name per counter, used everywhere: in-process stats, the stats file,
 * the HTTP endpoint, Postgres and CloudWatch. The index of a name is its slot
 * in the shared counters buffer, so names are only ever appended.
 */
export const COUNTER_NAMES = [
  'received',
  'written',
  'dropped_overflow',
  'dropped_invalid_json',
  'dropped_too_large',
  'dropped_closed',
  'dropped_exit_timeout',
  'failed_db_rejected',
  'failed_db_unavailable',
  'queued_records',
  'queued_bytes',
  'batches',
  'retries',
  'sanitized',
  'offloaded',
  'offloaded_bytes',
  'offload_failed',
  'metrics_sent',
  'metrics_dropped',
  'spans',
  'metrics_invalid',
  'metrics_cardinality',
  'metrics_lost',
  'worker_heap_bytes',
  'usage_invalid',
  'failed_store_rejected',
  'failed_store_unavailable',
  'failed_stage',
  'sink_background_errors',
  'dropped_span_level',
  'dropped_span_error',
  'spooled',
  'replayed',
  'recovered',
  'spool_records',
  'spool_bytes',
  'spool_oldest_age_ms',
  'dropped_spool_full',
  'dropped_spool_corrupt',
  'spool_corrupt_frames',
  'failed_worker_exit',
] as const

export type CounterName = (typeof COUNTER_NAMES)[number]

/** Slots reserved beyond the named ones so later counters fit old buffers. */
export const COUNTER_SLOTS = 64

/**
 * The shared counters buffer has two regions of COUNTER_SLOTS each, one per
 * writer, so no slot is ever written by two threads: the worker's (first) and
 * the app thread's (second; createSluice's ring counts there what it receives
 * and drops before the worker sees it). A counter's value is the sum of both.
 */
export const APP_REGION_OFFSET = COUNTER_SLOTS
export const SHARED_COUNTER_SLOTS = 2 * COUNTER_SLOTS

export const COUNTER_INDEX: Readonly<Record<CounterName, number>> = Object.freeze(
  Object.fromEntries(COUNTER_NAMES.map((name, index) => [name, index])) as Record<CounterName, number>,
)

/**
 * span_level and span_error are spans SluiceSpanProcessor could not hand to
 * the logger (below its level; the logger threw): counted on the app thread
 * as received and dropped, so spans and lines balance together.
 */
export const DROP_REASONS = ['overflow', 'invalid_json', 'too_large', 'closed', 'exit_timeout', 'span_level', 'span_error', 'spool_full', 'spool_corrupt'] as const
export type DropReason = (typeof DROP_REASONS)[number]

/**
 * db_* when Postgres is the store of record, store_* for any other store (file, custom);
 * stage: held back by a stage (a fail-closed stage failed or rejected them, or a stage still
 * had them when the exit budget ran out), never handed to the store;
 * worker_exit: createSluice's worker died (out of heap, a throw) with them unsettled, in its
 * hands or still in the ring; counted by the app thread, which outlives it.
 */
export const FAIL_REASONS = ['db_rejected', 'db_unavailable', 'store_rejected', 'store_unavailable', 'stage', 'worker_exit'] as const
export type FailReason = (typeof FAIL_REASONS)[number]

/** Counters that are levels (go up and down), not monotonic totals. */
export const GAUGES: ReadonlySet<CounterName> = new Set(['queued_records', 'queued_bytes', 'worker_heap_bytes', 'spool_records', 'spool_bytes', 'spool_oldest_age_ms'])
