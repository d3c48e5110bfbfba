/**
 * Credentials come from the SDK's default provider chain, not from a check of
 * AWS_ACCESS_KEY_ID: a shared credentials file (profile) is enough, and when
 * nothing resolves the stage turns itself off with one notice while logs keep
 * flowing. pino's worker copies process.env when it starts, so each test sets
 * the environment it needs before starting the transport.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { metric } from '../../src/index.js'
import { cloudWatchClient, motoEndpoint, startRecordingProxy, statistics, uniqueNamespace } from '../support/cloudwatch.js'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const endpoint = motoEndpoint('cloudwatch-credentials.test.ts')
const dir = mkdtempSync(join(tmpdir(), 'sluice-aws-'))

/** An environment where no provider of the chain finds anything, and none leaves loopback. */
function clearAwsEnvironment(): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_')) delete process.env[key]
  }
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'absent-credentials')
  process.env.AWS_CONFIG_FILE = join(dir, 'absent-config')
  process.env.AWS_REGION = 'us-east-1'
}

describe('CloudWatch credentials', () => {
  const sql = sqlClient()
  afterAll(() => sql.end())
  beforeEach(clearAwsEnvironment)

  it('turns the stage into a no-op with one notice when no credentials resolve; logs keep flowing', async () => {
    const proxy = await startRecordingProxy(undefined)
    const h = await startTransport({ cloudwatch: { namespace: uniqueNamespace(), endpoint: proxy.url, flushIntervalMs: 100 } })
    for (let i = 0; i < 50; i++) h.logger.info(metric('Orders', 1, 'Count'), 'order')
    await h.flush()
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (let i = 0; i < 50; i++) h.logger.info(metric('Orders', 1, 'Count'), 'order')
    await h.close()
    expect(await proxy.requests()).toEqual([])
    await proxy.close()
    const notices = h.stderr().split('\n').filter((line) => line.includes('CloudWatch metrics are off'))
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain('no AWS credentials')
    expect(await appRowCount(sql, h.table)).toBe(100)
    expect(h.stats.readFlat()).toMatchObject({ received: 100, written: 100, metrics_sent: 0, metrics_lost: 0 })
    expectBalanced(h.stats, expect)
  })

  it.skipIf(!endpoint)('finds credentials in a shared credentials file (a profile), without AWS_ACCESS_KEY_ID', async () => {
    const file = join(dir, 'credentials')
    writeFileSync(file, '[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n')
    process.env.AWS_SHARED_CREDENTIALS_FILE = file
    const namespace = uniqueNamespace()
    const proxy = await startRecordingProxy(endpoint)
    const h = await startTransport({ cloudwatch: { namespace, endpoint: proxy.url, selfMetrics: false } })
    for (let i = 0; i < 20; i++) h.logger.info(metric('Orders', 2, 'Count'))
    await h.close()
    await proxy.close()
    const client = cloudWatchClient(endpoint!)
    expect(await statistics(client, namespace, 'Orders')).toMatchObject({ SampleCount: 20, Sum: 40 })
    client.destroy()
    expect(h.stderr()).not.toContain('CloudWatch metrics are off')
    expect(h.stats.readFlat()).toMatchObject({ metrics_sent: 20, metrics_lost: 0 })
    expectBalanced(h.stats, expect)
  })
})
