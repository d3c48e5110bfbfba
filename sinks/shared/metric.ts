/**
 * The metric record shape the CloudWatch stage reads: `log.info(metric('CheckoutLatency', 12.5, 'Milliseconds', { Route: '/pay' }))`
 * writes `{ metric: { name, value, unit, dimensions }, sluice_proof }` into the log record. The record is
 * still stored like any other; the stage reads the datapoint only when the proof is this process's.
 */
import { metricProof } from './record-proof.js'

export const METRIC_UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes',
  'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count',
  'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
  'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
] as const

/** CloudWatch's StandardUnit names. */
export type MetricUnit = (typeof METRIC_UNITS)[number]

export interface MetricFields {
  metric: {
    name: string
    value: number
    unit: MetricUnit
    dimensions?: Record<string, string>
  }
  /** Proves `metric()` wrote the field (sinks/shared/record-proof.ts): a logged object's own `metric` key sends nothing. */
  sluice_proof: string
}

/** Builds the `{ metric }` field for one datapoint; merge it into a log call's object. */
export function metric(name: string, value: number, unit: MetricUnit = 'None', dimensions?: Record<string, string>): MetricFields {
  const fields = dimensions === undefined ? { name, value, unit } : { name, value, unit, dimensions }
  return { metric: fields, sluice_proof: metricProof(fields) }
}
