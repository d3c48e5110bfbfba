/**
 * The values of one series in one period, shaped for PutMetricData's
 * `Values` + `Counts` (at most 150 entries per datum) so CloudWatch can still
 * compute percentiles — the fidelity a flat `StatisticValues` set loses.
 *
 * Up to 150 distinct values are kept exactly. Beyond that the values move into
 * logarithmic buckets (DDSketch-style): bucket i holds |v| in [γ^i, γ^(i+1))
 * with γ = 2^(1/r), r starting at 64 buckets per octave (γ − 1 ≈ 1.09 %). When
 * more than 148 buckets are occupied, r halves and neighbouring buckets merge,
 * so memory stays bounded whatever arrives. Each bucket is sent as the mean of
 * its values (so Sum and SampleCount stay exact), and the minimum and maximum
 * travel as values of their own (so Minimum and Maximum stay exact).
 *
 * Error: buckets are ordered and keep their counts, so the k-th smallest sent
 * value lies in the same bucket as the k-th smallest real one; any percentile
 * is off by less than γ − 1 relative (plus 1e-7 from rounding the means to 7
 * significant digits, which keeps requests small). The final r depends on the
 * spread of the period's values: within a factor 10 (3.3 octaves) r = 32,
 * error < 2.2 %; within 1000× r = 8 → 9.1 %; within 10^6× r = 4 → 19 %.
 */
import { MAX_VALUES_PER_DATUM } from './metric-limits.js'

const INITIAL_RESOLUTION = 64
/** Two entries stay free for the exact minimum and maximum. */
const MAX_BUCKETS = MAX_VALUES_PER_DATUM - 2
/** Keeps bucket keys positive and signs apart: |index| < 2^360·64 never reaches it. */
const KEY_OFFSET = 100_000

interface Bucket {
  count: number
  sum: number
}

export interface ValuesAndCounts {
  values: number[]
  counts: number[]
}

export class ValueHistogram {
  count = 0
  sum = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  private exact: Map<number, number> | undefined = new Map()
  private buckets: Map<number, Bucket> | undefined
  /** Buckets per octave; halves on each collapse (may go below 1). */
  private resolution = INITIAL_RESOLUTION

  /** Relative error bound of percentiles computed from `valuesAndCounts()`; 0 while exact. */
  get relativeError(): number {
    return this.buckets ? 2 ** (1 / this.resolution) - 1 + 1e-7 : 0
  }

  add(value: number, count = 1): void {
    this.count += count
    this.sum += value * count
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
    if (this.exact) {
      this.exact.set(value, (this.exact.get(value) ?? 0) + count)
      if (this.exact.size > MAX_VALUES_PER_DATUM) this.toBuckets()
      return
    }
    this.addToBucket(value, count, value * count)
  }

  /** Adds everything `other` holds (used when an unsent aggregate is merged back). */
  absorb(other: ValueHistogram): void {
    if (other.exact) {
      for (const [value, count] of other.exact) this.add(value, count)
      return
    }
    this.count += other.count
    this.sum += other.sum
    this.min = Math.min(this.min, other.min)
    this.max = Math.max(this.max, other.max)
    if (this.exact) this.toBuckets()
    while (this.resolution > other.resolution) this.collapse()
    while (other.resolution > this.resolution) other.collapse()
    for (const [key, bucket] of other.buckets ?? []) {
      const mine = this.buckets?.get(key)
      if (mine) {
        mine.count += bucket.count
        mine.sum += bucket.sum
      } else {
        this.buckets?.set(key, { count: bucket.count, sum: bucket.sum })
      }
    }
    while ((this.buckets?.size ?? 0) > MAX_BUCKETS) this.collapse()
  }

  /** The datum's Values and Counts, sorted by value, at most 150 entries, each value unique. */
  valuesAndCounts(): ValuesAndCounts {
    const pairs: [number, number][] = []
    if (this.exact) {
      for (const [value, count] of this.exact) pairs.push([value, count])
    } else {
      const minKey = this.keyOf(this.min)
      const maxKey = this.keyOf(this.max)
      for (const [key, bucket] of this.buckets ?? []) {
        let { count, sum } = bucket
        if (key === minKey && count > 0) {
          pairs.push([this.min, 1])
          count--
          sum -= this.min
        }
        if (key === maxKey && count > 0) {
          pairs.push([this.max, 1])
          count--
          sum -= this.max
        }
        if (count > 0) {
          const mean = Number((sum / count).toPrecision(7))
          pairs.push([Math.min(this.max, Math.max(this.min, mean)), count])
        }
      }
    }
    pairs.sort((a, b) => a[0] - b[0])
    const values: number[] = []
    const counts: number[] = []
    for (const [value, count] of pairs) {
      if (values.length > 0 && values[values.length - 1] === value) {
        counts[counts.length - 1] = (counts[counts.length - 1] as number) + count
      } else {
        values.push(value)
        counts.push(count)
      }
    }
    return { values, counts }
  }

  private keyOf(value: number): number {
    if (value === 0) return 0
    const index = Math.floor(Math.log2(Math.abs(value)) * this.resolution)
    return value > 0 ? KEY_OFFSET + index : -(KEY_OFFSET + index)
  }

  private addToBucket(value: number, count: number, sum: number): void {
    const buckets = this.buckets as Map<number, Bucket>
    const key = this.keyOf(value)
    const bucket = buckets.get(key)
    if (bucket) {
      bucket.count += count
      bucket.sum += sum
      return
    }
    buckets.set(key, { count, sum })
    // collapse() replaces this.buckets, so re-read it on every turn.
    while ((this.buckets?.size ?? 0) > MAX_BUCKETS) this.collapse()
  }

  private toBuckets(): void {
    const exact = this.exact ?? new Map<number, number>()
    this.exact = undefined
    this.buckets = new Map()
    for (const [value, count] of exact) this.addToBucket(value, count, value * count)
  }

  /** Halves the resolution: bucket i joins bucket floor(i / 2), i.e. γ becomes γ². */
  private collapse(): void {
    const old = this.buckets ?? new Map<number, Bucket>()
    this.resolution /= 2
    const merged = new Map<number, Bucket>()
    for (const [key, bucket] of old) {
      const sign = key < 0 ? -1 : 1
      const newKey = key === 0 ? 0 : sign * (KEY_OFFSET + Math.floor((Math.abs(key) - KEY_OFFSET) / 2))
      const target = merged.get(newKey)
      if (target) {
        target.count += bucket.count
        target.sum += bucket.sum
      } else {
        merged.set(newKey, { count: bucket.count, sum: bucket.sum })
      }
    }
    this.buckets = merged
  }
}
