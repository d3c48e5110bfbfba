/**
 * Postgres optional: the built-in NDJSON file sink as the store of record
 * (rotation by size, exact accounting), as a fan-out sink beside Postgres
 * (`target: 'pino-sluice/file'`), and S3 + CloudWatch with no database at all
 * (s3rver, moto).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { metric } from '../../src/index.js'
import { cloudWatchClient, motoEndpoint, statistics, uniqueNamespace, useDummyCredentials } from '../support/cloudwatch.js'
import { localS3Client, localS3Options, s3Endpoint, S3_TEST_BUCKET, uniquePrefix } from '../support/s3.js'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'))
let fileCounter = 0
const freshPath = (): string => join(dir, `run-${++fileCounter}`, 'app.ndjson')

/** Every line of the live file and its rotations, oldest first; drop-notice rows left out. */
function readAll(path: string): Record<string, unknown>[] {
  const folder = join(path, '..')
  const rotated = readdirSync(folder)
    .filter((f) => /^app\.ndjson\.\d+$/.test(f))
    .sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()))
  const files = [...rotated.map((f) => join(folder, f)), ...(existsSync(path) ? [path] : [])]
  return files
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => !('pino_sluice' in record))
}

describe('the NDJSON file sink as the store of record', () => {
  it('appends every record once, rotates by size, and balances the counters without Postgres', async () => {
    const path = freshPath()
    const h = await startTransport({ file: { path, maxBytes: 4096, maxFiles: 100 }, batch: { maxRecords: 50 } })
    for (let i = 0; i < 400; i++) h.logger.info({ i, pad: 'x'.repeat(40) }, `record ${i}`)
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 400, written: 400, dropped: 0, failed: 0 })
    expect(h.stats.read().sinks.file).toMatchObject({ delivered: 400, failed: 0 })
    const files = readdirSync(join(path, '..'))
    expect(files.length).toBeGreaterThan(5)
    for (const f of files) expect(statSync(join(path, '..', f)).size).toBeLessThanOrEqual(4096)
    // Oldest rotation first, live file last: the records in the order they were logged.
    expect(readAll(path).map((r) => r.i)).toEqual(Array.from({ length: 400 }, (_, i) => i))
  })

  it('keeps maxFiles rotations and deletes older ones', async () => {
    const path = freshPath()
    const h = await startTransport({ file: { path, maxBytes: 2048, maxFiles: 2 } })
    for (let i = 0; i < 200; i++) h.logger.info({ i, pad: 'y'.repeat(40) }, 'r')
    await h.close()
    expect(readdirSync(join(path, '..')).sort()).toEqual(['app.ndjson', 'app.ndjson.1', 'app.ndjson.2'])
    const kept = readAll(path).map((r) => r.i as number)
    // The newest records survive, contiguous up to the last one.
    expect(kept.at(-1)).toBe(199)
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => 200 - kept.length + k))
    expectBalanced(h.stats, expect)
  })

  it('appends to an existing file after a restart', async () => {
    const path = freshPath()
    for (const run of [1, 2]) {
      const h = await startTransport({ file: { path } })
      h.logger.info({ run }, 'hello')
      await h.close()
    }
    expect(readAll(path).map((r) => r.run)).toEqual([1, 2])
  })

  it('a path that cannot be opened fails at start, naming the option', async () => {
    const blocker = join(dir, 'a-file')
    writeFileSync(blocker, '')
    await expect(startTransport({ file: { path: join(blocker, 'logs.ndjson') } })).rejects.toThrow(/options\.file\.path .*logs\.ndjson cannot be opened for appending .*Choose a path/)
    await expect(startTransport({ file: { path: 'relative.ndjson' } })).rejects.toThrow(/options\.file\.path must be an absolute file path/)
  })
})

describe("the file sink as a fan-out sink: target 'pino-sluice/file'", () => {
  const sql = sqlClient()
  afterAll(() => sql.end())

  it('gets a copy of every batch beside Postgres, with its own counts', async () => {
    const path = freshPath()
    const h = await startTransport({ sinks: [{ target: 'pino-sluice/file', name: 'ship', options: { path } }] })
    for (let i = 0; i < 25; i++) h.logger.warn({ i }, 'copy me')
    await h.flush()
    expect(h.stats.read()).toMatchObject({ received: 25, written: 25, sinks: { ship: { delivered: 25, failed: 0 }, postgres: { delivered: 25 } } })
    await h.close()
    expect(await appRowCount(sql, h.table)).toBe(25)
    expect(readAll(path).map((r) => r.i)).toEqual(Array.from({ length: 25 }, (_, i) => i))
  })

  it('its options are checked at start like any sink', async () => {
    await expect(startTransport({ sinks: [{ target: 'pino-sluice/file', options: { path: 'nope' } }] })).rejects.toThrow(
      /options\.sinks\[0\] \(target "pino-sluice\/file"\): options\.sinks\[0\]\.options\.path must be an absolute file path/,
    )
  })
})

const moto = motoEndpoint('sinks-file.test.ts')
useDummyCredentials()

describe.skipIf(!s3Endpoint || !moto)('S3 + CloudWatch without Postgres', () => {
  it('file store + S3 offload + CloudWatch metrics: pointers in the file, objects in S3, datapoints in CloudWatch', async () => {
    const path = freshPath()
    const prefix = uniquePrefix()
    const namespace = uniqueNamespace('Sinks')
    const h = await startTransport({
      file: { path },
      s3: localS3Options({ prefix, thresholdBytes: 4096 }),
      cloudwatch: { namespace, endpoint: moto, flushIntervalMs: 600_000, selfMetrics: false },
    })
    h.logger.info({ payload: 'p'.repeat(10_000) }, 'big one')
    for (let i = 0; i < 10; i++) h.logger.info(metric('Orders', 1, 'Count'))
    await h.flush()
    const records = readAll(path)
    const big = records.find((r) => r.msg === 'big one') as { payload: { $ref: string } }
    expect(big.payload.$ref).toMatch(new RegExp(`^s3://${S3_TEST_BUCKET}/${prefix}`))
    const s3 = localS3Client()
    const { GetObjectCommand } = await import('@aws-sdk/client-s3')
    const object = await s3.send(new GetObjectCommand({ Bucket: S3_TEST_BUCKET, Key: big.payload.$ref.slice(`s3://${S3_TEST_BUCKET}/`.length) }))
    expect(object.ContentLength).toBeGreaterThan(0)
    s3.destroy()
    const cw = cloudWatchClient(moto ?? '')
    expect(await statistics(cw, namespace, 'Orders')).toMatchObject({ SampleCount: 10, Sum: 10 })
    cw.destroy()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 11, written: 11, offloaded: 1, failed: 0 })
    expect(Object.keys(h.stats.read().sinks).sort()).toEqual(['cloudwatch', 'file', 's3'])
  })

  it('no store of record at all (postgres: false, CloudWatch only): records count as written once the stages had them', async () => {
    const namespace = uniqueNamespace('NoStore')
    const h = await startTransport({ postgres: false, cloudwatch: { namespace, endpoint: moto, flushIntervalMs: 600_000, selfMetrics: false } })
    for (let i = 0; i < 7; i++) h.logger.info(metric('Signups', 2, 'Count'))
    await h.flush()
    const cw = cloudWatchClient(moto ?? '')
    expect(await statistics(cw, namespace, 'Signups')).toMatchObject({ SampleCount: 7, Sum: 14 })
    cw.destroy()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 7, written: 7, dropped: 0, failed: 0 })
  })

  it('S3 with no store of record and no fan-out sink is refused: the pointers would be kept nowhere', async () => {
    await expect(startTransport({ postgres: false, s3: localS3Options(), cloudwatch: { namespace: 'X', endpoint: moto } })).rejects.toThrow(
      /options\.s3 offloads payloads .* the pointers would be kept nowhere/,
    )
  })
})
