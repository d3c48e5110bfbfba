import { SinkCounters } from './sink-counters.js'
import { APP_REGION_OFFSET, COUNTER_INDEX, COUNTER_NAMES, COUNTER_SLOTS, SHARED_COUNTER_SLOTS, type CounterName, type DropReason, type FailReason } from './counter-names.js'

export type CounterValues = Record<CounterName, number>

/**
 * Worker-side counters. Hot paths bump plain numbers; `publish()` copies them
 * into the SharedArrayBuffer (when the app passed one) so the main thread can
 * read them without a message round trip. Publishing is cheap and happens
 * after every chunk and every batch.
 */
export class Counters {
  /** This worker's own counts; `snapshot()` adds what the app thread counted. */
  readonly values: CounterValues
  /** Per-sink delivered/failed, published in the buffer's sink region. */
  readonly sinks: SinkCounters
  private readonly shared: BigInt64Array | undefined
  private readonly appRegion: BigInt64Array | undefined
  /** What each slot last received, so publish() stores only what changed (it runs on every ring read and batch). */
  private readonly published: Float64Array

  constructor(sharedBuffer?: SharedArrayBuffer) {
    this.values = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as CounterValues
    this.shared = sharedBuffer ? new BigInt64Array(sharedBuffer, 0, COUNTER_SLOTS) : undefined
    // Buffers from before the app region existed have only the worker's slots.
    const hasAppRegion = sharedBuffer !== undefined && sharedBuffer.byteLength >= SHARED_COUNTER_SLOTS * BigInt64Array.BYTES_PER_ELEMENT
    this.appRegion = hasAppRegion ? new BigInt64Array(sharedBuffer, APP_REGION_OFFSET * BigInt64Array.BYTES_PER_ELEMENT, COUNTER_SLOTS) : undefined
    this.sinks = new SinkCounters(sharedBuffer)
    // NaN: the first publish writes every slot, whatever a reused buffer held.
    this.published = new Float64Array(COUNTER_NAMES.length).fill(Number.NaN)
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

  publish(): void {
    this.sinks.publish()
    const shared = this.shared
    if (!shared) return
    // Most of the ~40 counters stay put between publishes: a BigInt and an atomic store each only when one moved.
    const published = this.published
    for (let i = 0; i < COUNTER_NAMES.length; i++) {
      const name = COUNTER_NAMES[i] as CounterName
      const value = this.values[name]
      if (published[i] === value) continue
      published[i] = value
      Atomics.store(shared, COUNTER_INDEX[name], BigInt(value))
    }
  }

  /** Both threads' counts added up: what every reader outside the hot path should see. */
  snapshot(): CounterValues {
    const all = { ...this.values }
    const app = this.appRegion
    if (app) for (const name of COUNTER_NAMES) all[name] += Number(Atomics.load(app, COUNTER_INDEX[name]))
    return all
  }
}
