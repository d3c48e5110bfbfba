/**
 * One record the S3 stage cannot serialize (nested 100,000 levels deep) in a
 * batch of big records (issue 27 item 12): it costs only itself, and the
 * counters say exactly what the database and the bucket hold.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { localS3Client, localS3Options, listKeys, s3Endpoint, uniquePrefix } from '../support/s3.js'
import { expectBalanced, sqlClient, startTransport } from '../support/transport.js'
import { stringifyOverflowsAt, warnDeepJsonSkip } from '../support/deep-json.js'

const sql = sqlClient()
const s3 = localS3Client()
afterAll(async () => {
  await sql.end()
  s3.destroy()
})

const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)

const deepOverflows = stringifyOverflowsAt(100_000)
if (!deepOverflows) warnDeepJsonSkip('the S3 stage with a record nested deeper than the stack')

describe.skipIf(!s3Endpoint || !deepOverflows)('a record too deep to serialize, in a batch of offloaded records (s3rver + Postgres)', () => {
  it('costs only itself: 20 pointers stored and counted offloaded, the deep one counted offload_failed and refused by Postgres', async () => {
    const prefix = uniquePrefix()
    // One batch: nothing is written before close.
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 4096 }), batch: { intervalMs: 60_000 } })
    for (let i = 0; i < 10; i++) h.logger.info({ i, payload: `${i}`.padEnd(5000, 'p') }, 'big')
    h.transport.write(`{"level":30,"msg":"deep","d":${deep}}\n`)
    for (let i = 10; i < 20; i++) h.logger.info({ i, payload: `${i}`.padEnd(5000, 'p') }, 'big')
    await h.close()

    const rows = await sql<{ msg: string; data: { i: number; payload: unknown } }[]>`select msg, data from ${sql(h.table)} where not (data ? 'pino_sluice') order by seq`
    expect(rows.map((r) => r.data.i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    for (const row of rows) expect(row.data.payload).toMatchObject({ $ref: expect.stringMatching(/^s3:\/\//), encoding: 'gzip' })
    const [{ pointers }] = (await sql`select count(*)::int as pointers from ${sql(h.table)} where data @? '$.payload ? (exists (@."$ref"))'`) as unknown as [{ pointers: number }]
    expect(pointers).toBe(20)
    expect(await listKeys(s3, prefix)).toHaveLength(20)

    const stats = h.stats.read()
    expect(stats).toMatchObject({ received: 21, written: 20, dropped: 0, failed: 1, offloaded: pointers, offload_failed: 1, failedBy: { db_rejected: 1 } })
    // The stage itself did not fail the batch.
    expect(stats.sinks.s3).toMatchObject({ failed: 0 })
    expect(h.stderr()).toContain('S3 offload skipped a record it cannot serialize (Maximum call stack size exceeded): it goes to the store as logged')
    expect(h.stderr()).toContain('stack depth limit exceeded')
    expectBalanced(h.stats, expect)
  })
})
