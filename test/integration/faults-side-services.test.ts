/**
 * S3 and CloudWatch down, silent or answering errors: the Postgres path keeps
 * writing every record (payloads inline or truncated, metrics counted lost),
 * within bounded delays. The time-to-commit ratio is printed, not asserted.
 */
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appRowCount, expectBalanced, sqlClient, startTransport, type HarnessOptions } from '../support/transport.js'
import { useDummyCredentials } from '../support/cloudwatch.js'
import { metric } from '../../src/index.js'

const sql = sqlClient()
let silent: net.Server
let failing: http.Server
let silentUrl = ''
let failingUrl = ''
const sockets = new Set<net.Socket>()

beforeAll(async () => {
  useDummyCredentials()
  // Accepts connections and never answers: the "slow" endpoint.
  silent = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
  // Answers every request with a 503.
  failing = http.createServer((_, response) => response.writeHead(503, { 'content-type': 'text/xml' }).end('<Error><Code>ServiceUnavailable</Code></Error>'))
  failing.listen(0, '127.0.0.1')
  await once(failing, 'listening')
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  silent.close()
  failing.close()
  await sql.end()
})

const RECORDS = 2000

async function burst(options: HarnessOptions): Promise<{ ms: number; h: Awaited<ReturnType<typeof startTransport>> }> {
  const h = await startTransport({ ...options, channel: { maxRecords: 10_000 }, batch: { maxRecords: 200, intervalMs: 20 } })
  const big = 'p'.repeat(100_000)
  const started = Date.now()
  for (let i = 0; i < RECORDS; i++) {
    if (i % 100 === 0) h.logger.info({ i, output: big }, 'model call')
    else h.logger.info({ i, ...metric('Latency', i % 50, 'Milliseconds') }, 'request')
  }
  // Time until everything is committed; close then spends what is left of the exit budget on CloudWatch.
  await h.flush()
  const ms = Date.now() - started
  await h.close()
  return { ms, h }
}

const s3At = (endpoint: string) => ({
  bucket: 'nowhere',
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  thresholdBytes: 64 * 1024,
  maxInlineBytes: 64 * 1024,
  requestTimeoutMs: 300,
  connectTimeoutMs: 300,
})
const cloudWatchAt = (endpoint: string) => ({ namespace: 'Faults', endpoint, region: 'us-east-1', flushIntervalMs: 200, requestTimeoutMs: 300 })

describe('side services down, the Postgres path keeps writing', () => {
  it.each([
    ['silent (accepts, never answers)', () => silentUrl],
    ['failing (HTTP 503)', () => failingUrl],
    ['refused (nothing listening)', () => 'http://127.0.0.1:9'],
  ])('S3 and CloudWatch %s', async (_, endpoint) => {
    const baseline = await burst({})
    const { ms, h } = await burst({ s3: s3At(endpoint()), cloudwatch: cloudWatchAt(endpoint()) })
    console.log(`with side services ${_}: ${ms} ms vs ${baseline.ms} ms without them (${(ms / baseline.ms).toFixed(2)}x)`)
    const s = h.stats.read()
    expect(s).toMatchObject({ received: RECORDS, written: RECORDS, dropped: 0, failed: 0, offloaded: 0 })
    expect(s.offloadFailed).toBe(RECORDS / 100)
    expect(await appRowCount(sql, h.table)).toBe(RECORDS)
    const [truncated] = await sql`select count(*)::int as n from ${sql(h.table)} where data->'output' ? '$truncated'`
    expect(truncated?.n).toBe(RECORDS / 100)
    expectBalanced(h.stats, expect)
  })
})
