/**
 * Turns aggregates into PutMetricData requests: one datum per aggregate, at
 * most 1000 datums and about 1 MB (measured as the JSON the SDK sends) per request.
 */
import type { MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch'
import type { Aggregate } from './metric-aggregator.js'
import { MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES } from './metric-limits.js'

export interface PutRequest {
  readonly aggregates: Aggregate[]
  readonly datums: MetricDatum[]
  /** Estimated body size in bytes. */
  bytes: number
}

export function toDatum(aggregate: Aggregate, storageResolution: number): MetricDatum {
  const { values, counts } = aggregate.histogram.valuesAndCounts()
  return {
    MetricName: aggregate.name,
    Dimensions: aggregate.dimensions.map(([Name, Value]) => ({ Name, Value })),
    Timestamp: new Date(aggregate.periodStart),
    Unit: aggregate.unit as StandardUnit,
    StorageResolution: storageResolution,
    Values: values,
    Counts: counts,
  }
}

/** Size of the datum in the AWS JSON 1.0 body (timestamps travel as epoch seconds). */
function jsonBytes(datum: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify({ ...datum, Timestamp: (datum.Timestamp as Date).getTime() / 1000 })) + 1
}

export function buildRequests(aggregates: readonly Aggregate[], storageResolution: number, namespace: string): PutRequest[] {
  const envelope = Buffer.byteLength(JSON.stringify({ Namespace: namespace, MetricData: [] }))
  const requests: PutRequest[] = []
  let current: PutRequest = { aggregates: [], datums: [], bytes: envelope }
  for (const aggregate of aggregates) {
    const datum = toDatum(aggregate, storageResolution)
    const size = jsonBytes(datum)
    if (current.datums.length > 0 && (current.datums.length >= MAX_DATUMS_PER_REQUEST || current.bytes + size > MAX_REQUEST_BYTES)) {
      requests.push(current)
      current = { aggregates: [], datums: [], bytes: envelope }
    }
    current.aggregates.push(aggregate)
    current.datums.push(datum)
    current.bytes += size
  }
  if (current.datums.length > 0) requests.push(current)
  return requests
}
