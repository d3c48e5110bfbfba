/**
 * Helpers for the CloudWatch tests: the moto endpoint (or a loud skip), dummy
 * credentials through the SDK's own env provider, a recording proxy in front of
 * moto (counts PutMetricData calls and bytes, can answer Throttling first), and
 * readers of what really landed.
 */
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand, type Datapoint, type Dimension, type Metric } from '@aws-sdk/client-cloudwatch'
import { inject } from 'vitest'

/** The moto URL, or undefined after a loud warning (tests then skip). */
export function motoEndpoint(file: string): string | undefined {
  const endpoint = inject('motoEndpoint')
  if (!endpoint) console.warn(`\n!!! ${file}: moto_server is not running; these CloudWatch tests are SKIPPED.\n`)
  return endpoint
}

/**
 * Dummy credentials for this test file's process (each vitest file runs in its
 * own fork, and pino's worker thread copies process.env when it starts). They go
 * through the SDK's default chain exactly like real ones; IMDS is disabled so no
 * lookup leaves loopback.
 */
export function useDummyCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing'
  process.env.AWS_SECRET_ACCESS_KEY = 'testing'
  process.env.AWS_REGION = 'us-east-1'
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
}

let namespaceCounter = 0
export function uniqueNamespace(prefix = 'Test'): string {
  namespaceCounter++
  return `${prefix}/${process.pid}/${Date.now().toString(36)}/${namespaceCounter}`
}

export function cloudWatchClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
}

export async function statistics(client: CloudWatchClient, namespace: string, name: string, dimensions: Record<string, string> = {}): Promise<Datapoint> {
  const result = await client.send(
    new GetMetricStatisticsCommand({
      Namespace: namespace,
      MetricName: name,
      Dimensions: Object.entries(dimensions).map(([Name, Value]): Dimension => ({ Name, Value })),
      StartTime: new Date(Date.now() - 3600_000),
      EndTime: new Date(Date.now() + 3600_000),
      // One period spanning the whole window: all datapoints in one statistic.
      Period: 7200,
      Statistics: ['SampleCount', 'Sum', 'Minimum', 'Maximum'],
    }),
  )
  const points = result.Datapoints ?? []
  if (points.length === 0) return { SampleCount: 0 }
  // moto may split the window at period boundaries; add them up.
  return points.reduce((a, b) => ({
    SampleCount: (a.SampleCount ?? 0) + (b.SampleCount ?? 0),
    Sum: (a.Sum ?? 0) + (b.Sum ?? 0),
    Minimum: Math.min(a.Minimum ?? Infinity, b.Minimum ?? Infinity),
    Maximum: Math.max(a.Maximum ?? -Infinity, b.Maximum ?? -Infinity),
  }))
}

export async function listMetrics(client: CloudWatchClient, namespace: string): Promise<Metric[]> {
  const metrics: Metric[] = []
  let NextToken: string | undefined
  do {
    const page = await client.send(new ListMetricsCommand({ Namespace: namespace, NextToken }))
    metrics.push(...(page.Metrics ?? []))
    NextToken = page.NextToken
  } while (NextToken)
  return metrics
}

/**
 * Every value moto stored for a namespace, per metric name (moto expands
 * Values × Counts into single datapoints, which lets us check percentiles: moto
 * itself computes no extended statistics).
 */
export async function landedValues(endpoint: string, namespace: string): Promise<Map<string, number[]>> {
  const response = await fetch(`${endpoint}/moto-api/data.json`)
  const data = (await response.json()) as { cloudwatch?: { MetricDatum?: { name: string; namespace: string; value: number }[] } }
  const byName = new Map<string, number[]>()
  for (const datum of data.cloudwatch?.MetricDatum ?? []) {
    if (datum.namespace !== namespace) continue
    const list = byName.get(datum.name) ?? []
    list.push(datum.value)
    byName.set(datum.name, list)
  }
  return byName
}

export function totalLanded(values: Map<string, number[]>): number {
  let n = 0
  for (const list of values.values()) n += list.length
  return n
}

/** Nearest-rank percentile, the definition used on both sides of the comparison. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1] as number
}

export interface RecordedRequest {
  /** Uncompressed JSON body size (what the 1 MB limit is about). */
  bytes: number
  /** Size on the wire: the SDK gzips PutMetricData bodies above 10 KiB. */
  wireBytes: number
  datums: number
  /** Largest Values array in the request. */
  maxValues: number
  throttled: boolean
}

export interface RecordingProxy {
  readonly url: string
  /** Every PutMetricData call so far. */
  requests(): Promise<RecordedRequest[]>
  /** PutMetricData calls that were forwarded (not throttled). */
  forwarded(): Promise<RecordedRequest[]>
  close(): Promise<void>
}

/**
 * An HTTP endpoint in front of moto, in a worker thread, that records every
 * PutMetricData call. `throttle` answers the first N calls with CloudWatch's
 * Throttling error, as AWS does under a rate limit; without `target` it
 * accepts calls itself.
 */
export async function startRecordingProxy(target: string | undefined, throttle = 0): Promise<RecordingProxy> {
  const worker = new Worker(new URL('./recording-proxy.mjs', import.meta.url), { workerData: { target, throttle } })
  const [{ port }] = (await once(worker, 'message')) as [{ port: number }]
  const requests = async (): Promise<RecordedRequest[]> => {
    worker.postMessage('requests')
    const [answer] = (await once(worker, 'message')) as [{ requests: RecordedRequest[] }]
    return answer.requests
  }
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    forwarded: async () => (await requests()).filter((r) => !r.throttled),
    close: async () => {
      const exited = once(worker, 'exit')
      worker.postMessage('close')
      await exited
    },
  }
}
