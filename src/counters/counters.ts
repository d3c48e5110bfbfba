import { SinkCounters } from './sink-counters.js'
import { COUNTER_INDEX, COUNTER_NAMES, COUNTER_SLOTS, DROP_REASONS, FAIL_REASONS, type CounterName, type DropReason, type FailReason } from './counter-names.js'

export type CounterValues = Record<CounterName, number>

/**
 * Worker-side counters. Hot paths bump plain numbers; `publish()` copies them
 * into the SharedArrayBuffer (when the app passed one) so the main thread can
 * read them without a message round trip. Publishing is cheap and happens
 * after every chunk and every batch.
 */
export class Counters {
  readonly values: CounterValues
  /** Per-sink delivered/failed, published in the buffer's sink region. */
  readonly sinks: SinkCounters
  private readonly shared: BigInt64Array | undefined

  constructor(sharedBuffer?: SharedArrayBuffer) {
    this.values = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as CounterValues
    this.shared = sharedBuffer ? new BigInt64Array(sharedBuffer, 0, COUNTER_SLOTS) : undefined
    this.sinks = new SinkCounters(sharedBuffer)
  }

  add(name: CounterName, amount = 1): void {
    this.values[name] += amount
  }

  set(name: CounterName, value: number): void {
    this.values[name] = value
  }

  drop(reason: DropReason, amount = 1): void {
    this.values[`dropped_${reason}`] += amount
  }

  fail(reason: FailReason, amount = 1): void {
    this.values[`failed_${reason}`] += amount
  }

  /** Sums over the reason lists, so a reason added there is counted here too. */
  dropped(): number {
    return DROP_REASONS.reduce((sum, reason) => sum + this.values[`dropped_${reason}`], 0)
  }

  failed(): number {
    return FAIL_REASONS.reduce((sum, reason) => sum + this.values[`failed_${reason}`], 0)
  }

  publish(): void {
    this.sinks.publish()
    if (!this.shared) return
    for (const name of COUNTER_NAMES) {
      Atomics.store(this.shared, COUNTER_INDEX[name], BigInt(this.values[name]))
    }
  }

  snapshot(): CounterValues {
    return { ...this.values }
  }
}
