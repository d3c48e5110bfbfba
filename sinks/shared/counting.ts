/**
 * What a built-in sink may do with the worker's counters (src/counters/counters.ts
 * implements it): add to the counters it owns, and read them all (the CloudWatch
 * stage reports the pipeline's health). Sinks see this, not the Counters class,
 * so they depend on nothing in src/.
 */
export type SinkCounterName = 'offloaded' | 'offloaded_bytes' | 'offload_failed' | 'metrics_sent' | 'metrics_dropped' | 'metrics_invalid' | 'metrics_cardinality' | 'metrics_lost'

export interface Counting {
  add(name: SinkCounterName, amount?: number): void
  /** Every counter by name (both threads' counts added up). */
  snapshot(): Readonly<Record<string, number>>
  /** The worker's own values, read on the hot path. */
  readonly values: Readonly<{ queued_records: number }>
}
