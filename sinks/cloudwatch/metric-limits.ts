/**
 * PutMetricData limits. Anything outside them is refused by CloudWatch for the
 * whole request, so we drop the single datapoint before it gets there.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
 */
import { METRIC_UNITS } from '../shared/metric.js'

export const MAX_DATUMS_PER_REQUEST = 1000
/** CloudWatch allows 1 MB per request; keep room for the envelope and our estimate's slack. */
export const MAX_REQUEST_BYTES = 1_000_000 - 16_384
export const MAX_VALUES_PER_DATUM = 150
export const MAX_DIMENSIONS = 30
export const MAX_NAME_LENGTH = 255
/** |value| must be 0 or within [2^-360, 2^360]. */
export const MIN_MAGNITUDE = 2 ** -360
export const MAX_MAGNITUDE = 2 ** 360
export const MAX_AGE_MS = 14 * 24 * 3600 * 1000
export const MAX_FUTURE_MS = 2 * 3600 * 1000

export const STANDARD_UNITS: ReadonlySet<string> = new Set(METRIC_UNITS)

// Printable ASCII with at least one non-space: what CloudWatch accepts for names and dimension values.
const PRINTABLE_ASCII = /^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$/

function isPrintable(text: string): boolean {
  return text.length >= 1 && text.length <= MAX_NAME_LENGTH && PRINTABLE_ASCII.test(text)
}

export function isValidNamespace(text: string): boolean {
  return isPrintable(text) && !text.startsWith(':') && !text.startsWith('AWS/')
}

export const isValidMetricName = isPrintable

export function isValidDimensionName(text: string): boolean {
  return isPrintable(text) && !text.startsWith(':')
}

export const isValidDimensionValue = isPrintable

export function isValidValue(value: number): boolean {
  if (!Number.isFinite(value)) return false
  const magnitude = Math.abs(value)
  return magnitude === 0 || (magnitude >= MIN_MAGNITUDE && magnitude <= MAX_MAGNITUDE)
}

export function isValidTimestamp(time: number, now: number): boolean {
  return Number.isFinite(time) && time >= now - MAX_AGE_MS && time <= now + MAX_FUTURE_MS
}
