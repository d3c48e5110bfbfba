import { COUNTER_INDEX, COUNTER_NAMES, COUNTER_SLOTS, type CounterName, type DropReason, type FailReason } from './counter-names.js'

export type CounterValues = Record<CounterName, number>

/**
 * Worker-side counters. Hot paths bump plain numbers; `publish()` copies them
 * into the SharedArrayBuffer (when the app passed one) so the main thread can
 * read them without a message round trip. Publishing is cheap and happens
 * after every chunk and every batch.
 */
export class Counters {
  readonly values: CounterValues
  private readonly shared: BigInt64Array | undefined

  constructor(sharedBuffer?: SharedArrayBuffer) {
    this.values = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as CounterValues
    this.shared = sharedBuffer ? new BigInt64Array(sharedBuffer, 0, COUNTER_SLOTS) : undefined
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

  dropped(): number {
    const v = this.values
    return v.dropped_overflow + v.dropped_invalid_json + v.dropped_too_large + v.dropped_closed + v.dropped_exit_timeout
  }

  failed(): number {
    return this.values.failed_db_rejected + this.values.failed_db_unavailable
  }

  /** Records that reached a final state: written, dropped or failed. */
  settled(): number {
    return this.values.written + this.dropped() + this.failed()
  }

  publish(): void {
    if (!this.shared) return
    for (const name of COUNTER_NAMES) {
      Atomics.store(this.shared, COUNTER_INDEX[name], BigInt(this.values[name]))
    }
  }

  snapshot(): CounterValues {
    return { ...this.values }
  }
}
