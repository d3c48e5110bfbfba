/**
 * Aggregates datapoints per (name, unit, dimensions, period) in memory until
 * the next flush. Memory is bounded twice: at most `maxSeries` distinct series
 * are admitted per period (later new series are dropped as
 * `metrics_cardinality`, known ones keep aggregating), and pending aggregates
 * are cut into a request batch as soon as a 1001st would be created.
 */
import type { Counting } from '../shared/counting.js'
import { MAX_DATUMS_PER_REQUEST } from './metric-limits.js'
import { ValueHistogram } from './value-histogram.js'

export type Dimensions = readonly (readonly [name: string, value: string])[]

/** One datum to be: a series in one period. */
export interface Aggregate {
  readonly key: string
  readonly name: string
  readonly unit: string
  /** Sorted by name. */
  readonly dimensions: Dimensions
  /** Start of the period, epoch ms; sent as the datum's Timestamp. */
  readonly periodStart: number
  readonly histogram: ValueHistogram
  /** How often this aggregate already came back after a failed send. */
  returns: number
}

export class MetricAggregator {
  private pending = new Map<string, Aggregate>()
  private readonly seen = new Set<string>()
  private seenPeriod = Number.NaN

  constructor(
    private readonly periodMs: number,
    private readonly maxSeries: number,
    private readonly counters: Counting,
    /** Receives a full batch (1000 aggregates) cut off mid-period. */
    private readonly onFull: (batch: Aggregate[]) => void,
  ) {}

  get size(): number {
    return this.pending.size
  }

  /**
   * `seriesKey` must identify (name, unit, sorted dimensions). `guarded: false`
   * is for the few self-metric series, which must get through exactly when an
   * app floods series.
   */
  observe(seriesKey: string, name: string, unit: string, dimensions: Dimensions, value: number, time: number, now: number, guarded = true): void {
    const periodStart = time - (time % this.periodMs)
    const key = `${seriesKey}\u0002${periodStart}`
    const existing = this.pending.get(key)
    if (existing) {
      existing.histogram.add(value)
      return
    }
    if (guarded && !this.admit(seriesKey, now)) {
      this.counters.add('metrics_cardinality')
      return
    }
    const aggregate: Aggregate = { key, name, unit, dimensions, periodStart, histogram: new ValueHistogram(), returns: 0 }
    aggregate.histogram.add(value)
    this.insert(aggregate)
  }

  /** Hands over everything pending and starts empty. */
  take(): Aggregate[] {
    const batch = [...this.pending.values()]
    this.pending = new Map()
    return batch
  }

  /** Puts an unsent aggregate back so the next flush retries it; merges with newer data of the same series and period. */
  giveBack(aggregate: Aggregate): void {
    aggregate.returns++
    const existing = this.pending.get(aggregate.key)
    if (existing) {
      existing.histogram.absorb(aggregate.histogram)
      existing.returns = Math.max(existing.returns, aggregate.returns)
      return
    }
    this.insert(aggregate)
  }

  private insert(aggregate: Aggregate): void {
    if (this.pending.size >= MAX_DATUMS_PER_REQUEST) this.onFull(this.take())
    this.pending.set(aggregate.key, aggregate)
  }

  /** The cardinality guard: series seen in the current (wall-clock) period, at most maxSeries of them. */
  private admit(seriesKey: string, now: number): boolean {
    const period = now - (now % this.periodMs)
    if (period !== this.seenPeriod) {
      this.seen.clear()
      this.seenPeriod = period
    }
    if (this.seen.has(seriesKey)) return true
    if (this.seen.size >= this.maxSeries) return false
    this.seen.add(seriesKey)
    return true
  }
}
