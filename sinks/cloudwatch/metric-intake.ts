/**
 * The single door for datapoints (explicit, derived from spans, self-metrics):
 * checks them against CloudWatch's limits, adds the default dimensions and
 * hands them to the aggregator. A datapoint CloudWatch would refuse is dropped
 * here and counted as `metrics_invalid` — one bad datapoint must never cost a
 * whole PutMetricData request.
 */
import type { Counting } from '../shared/counting.js'
import type { Dimensions, MetricAggregator } from './metric-aggregator.js'
import {
  MAX_DIMENSIONS,
  STANDARD_UNITS,
  isValidDimensionName,
  isValidDimensionValue,
  isValidMetricName,
  isValidTimestamp,
  isValidValue,
} from './metric-limits.js'

export type Notify = (message: string) => void

function dimensionText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value)
  return undefined
}

export class MetricIntake {
  private readonly defaults: Dimensions
  private readonly defaultsKey: string

  constructor(
    defaultDimensions: Readonly<Record<string, string>>,
    private readonly aggregator: MetricAggregator,
    private readonly counters: Counting,
    private readonly notify: Notify,
  ) {
    this.defaults = Object.entries(defaultDimensions).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    this.defaultsKey = this.defaults.map(([n, v]) => `${n}\u0001${v}`).join('\u0000')
  }

  /** `dimensions` is whatever the record carried (validated here); `time` epoch ms; `guarded: false` skips the cardinality guard. */
  add(name: unknown, value: unknown, unit: unknown, dimensions: unknown, time: number, now: number, guarded = true): void {
    const problem = this.check(name, value, unit, time, now)
    if (problem) return this.reject(problem)
    let dims = this.defaults
    let dimsKey = this.defaultsKey
    if (dimensions !== undefined && dimensions !== null) {
      const merged = this.mergeDimensions(dimensions)
      if (typeof merged === 'string') return this.reject(merged)
      dims = merged
      dimsKey = merged.map(([n, v]) => `${n}\u0001${v}`).join('\u0000')
    }
    const seriesKey = `${name as string}\u0000${unit as string}\u0000${dimsKey}`
    this.aggregator.observe(seriesKey, name as string, unit as string, dims, value as number, time, now, guarded)
  }

  private check(name: unknown, value: unknown, unit: unknown, time: number, now: number): string | undefined {
    if (typeof name !== 'string' || !isValidMetricName(name)) return 'the metric name must be 1-255 printable ASCII characters'
    if (typeof value !== 'number' || !isValidValue(value)) return 'the value must be a finite number, 0 or of magnitude within 2^-360..2^360 (NaN and ±Infinity are refused)'
    if (typeof unit !== 'string' || !STANDARD_UNITS.has(unit)) return 'the unit must be a CloudWatch StandardUnit such as Milliseconds, Count or None'
    if (!isValidTimestamp(time, now)) return 'the record time must be within the last 14 days and at most 2 hours ahead'
    return undefined
  }

  private mergeDimensions(dimensions: unknown): Dimensions | string {
    if (typeof dimensions !== 'object' || Array.isArray(dimensions)) return 'dimensions must be an object of name → string'
    const merged = new Map(this.defaults)
    for (const [dimName, raw] of Object.entries(dimensions as Record<string, unknown>)) {
      const text = dimensionText(raw)
      if (!isValidDimensionName(dimName) || text === undefined || !isValidDimensionValue(text)) {
        return 'dimension names and values must be 1-255 printable ASCII characters (names not starting with ":")'
      }
      merged.set(dimName, text)
    }
    if (merged.size > MAX_DIMENSIONS) return `a datum may carry at most ${MAX_DIMENSIONS} dimensions, default dimensions included`
    return [...merged].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  private reject(problem: string): void {
    this.counters.add('metrics_invalid')
    this.notify(`dropped an invalid metric datapoint (counted in metrics_invalid): ${problem}`)
  }
}
