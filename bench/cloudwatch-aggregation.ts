/**
 * `npm run build && node dist/bench/cloudwatch-aggregation.js [datapoints] [series]`
 *
 * What client-side aggregation saves: N datapoints (default 1M) over S series
 * (default 500) in one 60 s period go through the real metrics stage to a local
 * endpoint that counts PutMetricData calls and bytes. Compared with the same
 * datapoints sent one call per datapoint, and with the seed's approach (raw
 * datapoints, 1000 per call). Baseline bytes are measured on a sample of real
 * SDK requests and multiplied out; nothing leaves loopback.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch'
import { resolveCloudWatchOptions } from '../sinks/cloudwatch/cloudwatch-options.js'
import { MetricsStage } from '../sinks/cloudwatch/metrics-stage.js'
import { Deadline } from '../sinks/shared/deadline.js'
import { Counters } from '../src/counters/counters.js'
import { metric } from '../sinks/shared/metric.js'
import type { LogRecord } from '../sinks/shared/log-record.js'
import { markProven } from '../sinks/shared/record-proof.js'

interface Tally {
  calls: number
  wireBytes: number
  jsonBytes: number
}

async function countingEndpoint(): Promise<{ url: string; tally: Tally; reset(): void; close(): Promise<void> }> {
  const tally: Tally = { calls: 0, wireBytes: 0, jsonBytes: 0 }
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    tally.calls++
    tally.wireBytes += body.length
    tally.jsonBytes += req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).length : body.length
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
    res.end('{}')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tally,
    reset: () => Object.assign(tally, { calls: 0, wireBytes: 0, jsonBytes: 0 }),
    close: async () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

/** Latency-like values with 0.01 ms precision (thousands of distinct values per series), or small integers. */
function valueFor(i: number, kind: 'latency' | 'integer'): number {
  if (kind === 'integer') return i % 10
  const u = ((i * 2654435761) % 1_000_003) / 1_000_003
  return Math.round(100 * 2 ** (10 * u)) / 100
}

async function aggregated(url: string, tally: Tally, datapoints: number, series: number, kind: 'latency' | 'integer') {
  const options = resolveCloudWatchOptions({ cloudwatch: { namespace: 'Bench', endpoint: url, selfMetrics: false, flushIntervalMs: 3_600_000 } })
  const counters = new Counters()
  const stage = new MetricsStage(options!, counters)
  stage.start()
  const now = Date.now()
  const time = now - (now % 60_000)
  const running = Deadline.never().context()
  let aggregateNs = 0n
  for (let start = 0; start < datapoints; start += 1000) {
    const records: LogRecord[] = []
    for (let i = start; i < Math.min(datapoints, start + 1000); i++) {
      records.push({ seq: i, time, level: 30, bytes: 100, value: markProven({ ...metric('Latency', valueFor(i, kind), 'Milliseconds', { Route: `/r${i % series}` }) }, 'metric') })
    }
    const t0 = process.hrtime.bigint()
    await stage.write(records, running)
    aggregateNs += process.hrtime.bigint() - t0
  }
  const t0 = process.hrtime.bigint()
  await stage.close(running)
  const sendMs = Number(process.hrtime.bigint() - t0) / 1e6
  return { ...tally, sent: counters.values.metrics_sent, lost: counters.values.metrics_lost, nsPerPoint: Number(aggregateNs) / datapoints, sendMs }
}

/** Average bytes of real SDK requests carrying `perCall` raw datapoints each. */
async function rawRequestBytes(url: string, tally: Tally, perCall: number, samples: number): Promise<{ wire: number; json: number }> {
  const client = new CloudWatchClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
  const before = { ...tally }
  for (let s = 0; s < samples; s++) {
    const data: MetricDatum[] = []
    for (let i = 0; i < perCall; i++) {
      const n = s * perCall + i
      data.push({ MetricName: 'Latency', Dimensions: [{ Name: 'Route', Value: `/r${n % 500}` }], Timestamp: new Date(), Unit: 'Milliseconds', Value: valueFor(n, 'latency') })
    }
    await client.send(new PutMetricDataCommand({ Namespace: 'Bench', MetricData: data }))
  }
  client.destroy()
  return { wire: (tally.wireBytes - before.wireBytes) / samples, json: (tally.jsonBytes - before.jsonBytes) / samples }
}

const mb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 0)} MB`)
const n = (v: number): string => Math.round(v).toLocaleString('en-US')

async function main(): Promise<void> {
  const datapoints = Number(process.argv[2] ?? 1_000_000)
  const series = Number(process.argv[3] ?? 500)
  // Dummy credentials for the local endpoint, resolved by the SDK's env provider like real ones.
  process.env.AWS_ACCESS_KEY_ID ??= 'bench'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench'
  process.env.AWS_REGION ??= 'us-east-1'
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
  const endpoint = await countingEndpoint()
  const rows: string[][] = []
  for (const kind of ['latency', 'integer'] as const) {
    endpoint.reset()
    const r = await aggregated(endpoint.url, endpoint.tally, datapoints, series, kind)
    if (r.sent !== datapoints || r.lost !== 0) throw new Error(`accounting: sent ${r.sent}, lost ${r.lost} of ${datapoints}`)
    rows.push([`aggregated (${kind === 'latency' ? 'latencies, >150 distinct/series' : 'integers 0-9'})`, n(r.calls), mb(r.jsonBytes), mb(r.wireBytes), `${r.nsPerPoint.toFixed(0)} ns/datapoint, send ${r.sendMs.toFixed(0)} ms`])
  }
  endpoint.reset()
  const single = await rawRequestBytes(endpoint.url, endpoint.tally, 1, 500)
  rows.push(['one call per datapoint', n(datapoints), mb(single.json * datapoints), mb(single.wire * datapoints), `measured on 500 calls × ${n(datapoints / 500)}`])
  endpoint.reset()
  const seed = await rawRequestBytes(endpoint.url, endpoint.tally, 1000, 5)
  const seedCalls = Math.ceil(datapoints / 1000)
  rows.push(['raw datapoints, 1000 per call (seed)', n(seedCalls), mb(seed.json * seedCalls), mb(seed.wire * seedCalls), `measured on 5 calls × ${n(seedCalls / 5)}`])
  await endpoint.close()
  const header = ['approach', 'PutMetricData calls', 'JSON bytes', 'bytes on the wire (gzip)', 'notes']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  console.log(`\n${n(datapoints)} datapoints over ${n(series)} series in one 60 s period (node ${process.version})\n`)
  console.log(line(header))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(line(row))
}

await main()
