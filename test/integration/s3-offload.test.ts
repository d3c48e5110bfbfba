import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../dev/local-postgres.js'
import { createTracer, materialize } from '../../src/index.js'
import { localS3Client, localS3Options, listKeys, s3Endpoint, S3_TEST_BUCKET, uniquePrefix } from '../support/s3.js'
import { databaseUrl, expectBalanced, sqlClient, startTransport, type Harness } from '../support/transport.js'

const sql = sqlClient()
const s3 = localS3Client()
afterAll(async () => {
  await sql.end()
  s3.destroy()
})

const KEY = /^[a-z0-9.-]+\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.json\.gz$/
const MiB = 1024 * 1024
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** A raw pino line of exactly `bytes` UTF-8 bytes, padding in `payload`. */
function lineOfSize(bytes: number, msg: string): string {
  const base = JSON.stringify({ level: 30, time: Date.now(), msg, payload: '' })
  return JSON.stringify({ level: 30, time: Date.now(), msg, payload: 'p'.repeat(bytes - base.length) })
}

async function rows(h: Harness): Promise<Record<string, unknown>[]> {
  return sql`select id, msg, data from ${sql(h.table)} where not (data ? 'pino_sluice') order by seq`
}

async function objectText(ref: string): Promise<{ stored: Buffer; text: string }> {
  const key = ref.replace(`s3://${S3_TEST_BUCKET}/`, '')
  const out = await s3.send(new GetObjectCommand({ Bucket: S3_TEST_BUCKET, Key: key }))
  const stored = Buffer.from(await out.Body!.transformToByteArray())
  return { stored, text: gunzipSync(stored).toString('utf8') }
}

describe.skipIf(!s3Endpoint)('large payloads → S3 (real s3rver on loopback)', () => {
  it('keeps a record of exactly thresholdBytes inline and offloads one byte more, behind a searchable pointer', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 4096 }) })
    const under = lineOfSize(4096, 'at threshold')
    const over = lineOfSize(4097, 'one byte over')
    expect([Buffer.byteLength(under), Buffer.byteLength(over)]).toEqual([4096, 4097])
    h.transport.write(`${under}\n${over}\n`)
    await h.flush()
    const [atThreshold, overThreshold] = await rows(h)
    expect((atThreshold?.data as { payload: unknown }).payload).toBe(JSON.parse(under).payload)
    const pointer = (overThreshold?.data as { payload: Record<string, unknown> }).payload
    const payloadJson = JSON.stringify(JSON.parse(over).payload)
    expect(pointer).toEqual({
      $ref: expect.stringMatching(new RegExp(`^s3://${S3_TEST_BUCKET}/${prefix}`)),
      bytes: Buffer.byteLength(payloadJson),
      sha256: sha256(payloadJson),
      encoding: 'gzip',
    })
    const ref = pointer.$ref as string
    expect(ref.slice(`s3://${S3_TEST_BUCKET}/`.length)).toMatch(KEY)
    expect(ref.endsWith(`/${sha256(payloadJson)}.json.gz`)).toBe(true)
    const { stored, text } = await objectText(ref)
    expect([stored[0], stored[1]]).toEqual([0x1f, 0x8b])
    expect(text).toBe(payloadJson)
    // The README's query for rows with offloaded payloads.
    const found = await sql`select msg from ${sql(h.table)} where data @? '$.* ? (exists (@."$ref"))'`
    expect(found.map((r) => r.msg)).toEqual(['one byte over'])
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 2, written: 2, offloaded: 1, offloadedBytes: Buffer.byteLength(payloadJson), offloadFailed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('materialize() gives back the record as logged: gzip round trip, by row and by id, and through the CLI', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 8192 }) })
    const input = { messages: Array.from({ length: 200 }, (_, i) => ({ role: i % 2 ? 'user' : 'assistant', text: `mensaje ${i} ünïcødé 🚀` })) }
    const output = 'o'.repeat(200_000)
    h.logger.info({ input, output, small: 1, trace_id: 'trace-1' }, 'span done')
    await h.flush()
    const [row] = await sql`select * from ${sql(h.table)} where msg = 'span done'`
    expect(Buffer.byteLength(JSON.stringify(row?.data))).toBeLessThan(8192)
    const options = { sql, table: h.table, s3: localS3Options({ prefix }) }
    const byRow = await materialize(row as never, options)
    const byId = await materialize(String(row?.id), options)
    expect(byRow).toEqual(byId)
    expect(byId).toMatchObject({ level: 30, msg: 'span done', pid: process.pid, trace_id: 'trace-1', input, output, small: 1 })
    expect(byId?.time).toBe((row?.time as Date).getTime())
    expect(await materialize(Number.MAX_SAFE_INTEGER, options)).toBeUndefined()

    const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
    const args = ['materialize', String(row?.id), '--url', databaseUrl(), '--table', h.table, '--bucket', S3_TEST_BUCKET, '--prefix', prefix, '--endpoint', s3Endpoint!, '--force-path-style', '--checksums', 'WHEN_REQUIRED']
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
    const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], { env, maxBuffer: 16 * MiB })
    expect(JSON.parse(stdout)).toEqual(byId)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('stores the same payload once: same content, same key, across batches and workers', async () => {
    const prefix = uniquePrefix()
    const payload = { blob: 'd'.repeat(20_000) }
    const options = { s3: localS3Options({ prefix, thresholdBytes: 4096 }) }
    const first = await startTransport(options)
    first.logger.info({ payload }, 'one')
    await first.flush()
    first.logger.info({ payload }, 'two')
    await first.close()
    const second = await startTransport(options, first.table)
    second.logger.info({ payload }, 'three')
    await second.close()
    const refs = (await rows(first)).map((r) => (r.data as { payload: { $ref: string } }).payload.$ref)
    expect(refs).toHaveLength(3)
    expect(new Set(refs).size).toBe(1)
    expect(await listKeys(s3, prefix)).toHaveLength(1)
    expect(first.stats.read().offloaded + second.stats.read().offloaded).toBe(3)
    expectBalanced(first.stats, expect)
    expectBalanced(second.stats, expect)
  })

  it('with S3 unreachable, writes every record: payloads inline when they fit maxInlineBytes, else truncated with a marker', async () => {
    const deadPort = await freePort()
    const h = await startTransport({
      s3: localS3Options({ endpoint: `http://127.0.0.1:${deadPort}`, thresholdBytes: 1024, maxInlineBytes: 20_000 }),
    })
    const fits = 'f'.repeat(5000)
    const tooBig = 't'.repeat(50_000)
    h.logger.info({ fits }, 'small enough')
    h.logger.info({ tooBig, keep: 'me' }, 'too big')
    h.logger.info('plain')
    await h.flush()
    // Right after a failure, the next batch does not wait on the dead endpoint again.
    h.logger.info({ fits }, 'after the failure')
    await h.close()
    expect(h.stderr()).toContain('not tried, S3 failed just before: ECONNREFUSED')
    const [small, big, plain, after] = await rows(h)
    expect(after?.data).toEqual({ fits })
    expect(small?.data).toEqual({ fits })
    const marker = (big?.data as { tooBig: Record<string, unknown>; keep: string })
    expect(marker.keep).toBe('me')
    expect(marker.tooBig).toEqual({
      $truncated: expect.stringMatching(/^offload failed: /),
      bytes: tooBig.length + 2,
      sha256: sha256(JSON.stringify(tooBig)),
      head: JSON.stringify(tooBig).slice(0, 1024),
    })
    expect(plain?.msg).toBe('plain')
    expect(h.stats.read()).toMatchObject({ received: 4, written: 4, offloaded: 0, offloadFailed: 3 })
    expect(h.stderr()).toContain('S3 offload failed')
    expectBalanced(h.stats, expect)
  })

  it('a silent S3 cannot hold close past the exit budget: the upload is cut off and the records are still written', async () => {
    // Accepts connections and never answers: the SDK alone would wait requestTimeoutMs (60 s here).
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    try {
      const h = await startTransport({
        s3: localS3Options({ endpoint: `http://127.0.0.1:${port}`, thresholdBytes: 1024, requestTimeoutMs: 60_000 }),
        batch: { intervalMs: 60_000 },
        exit: { budgetMs: 2000 },
      })
      h.logger.info({ payload: 'q'.repeat(10_000) }, 'waits for a silent S3')
      h.logger.info('small')
      await h.close()
      const [big, small] = await rows(h)
      expect((big?.data as { payload: string }).payload).toBe('q'.repeat(10_000))
      expect(small?.msg).toBe('small')
      expect(h.stats.read()).toMatchObject({ received: 2, written: 2, dropped: 0, failed: 0, offloadFailed: 1 })
      expectBalanced(h.stats, expect)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  it('materializes a payload whose object is gone as { $missing } and keeps the rest', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 1024 }) })
    h.logger.info({ gone: 'g'.repeat(10_000), kept: 'k'.repeat(5_000) }, 'partly expired')
    await h.close()
    const [row] = await sql`select * from ${sql(h.table)} where msg = 'partly expired'`
    const ref = (row?.data as { gone: { $ref: string } }).gone.$ref
    await s3.send(new DeleteObjectCommand({ Bucket: S3_TEST_BUCKET, Key: ref.slice(`s3://${S3_TEST_BUCKET}/`.length) }))
    const record = await materialize(row as never, { s3: localS3Options({ prefix }) })
    expect(record).toMatchObject({ msg: 'partly expired', gone: { $missing: ref }, kept: 'k'.repeat(5_000) })
    expectBalanced(h.stats, expect)
  })

  it('a record cannot choose where its payload lands, nor make a reader fetch another object', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 1024 }) })
    const big = (c: string): string => c.repeat(3000)
    const forgedElsewhere = { $ref: `s3://other-bucket/2024/01/01/${'a'.repeat(64)}.json.gz`, bytes: 1, sha256: 'a'.repeat(64), encoding: 'gzip' }
    const forgedPath = { $ref: `s3://${S3_TEST_BUCKET}/../secret`, bytes: 1, sha256: 'b'.repeat(64), encoding: 'gzip' }
    const hostile = [
      `{"level":30,"time":"+275760-09-13T00:00:00.000Z","msg":"far future","trace_id":"../../../etc/passwd","payload":"${big('d')}"}`,
      `{"level":30,"time":-1,"msg":"before epoch","__proto__":"${big('a')}","../../x":"${big('b')}","/abs\\u0001\\n":"${big('c')}"}`,
      JSON.stringify({ level: 30, time: Date.now(), msg: 'forged', forgedElsewhere, forgedPath }),
    ]
    h.transport.write(`${hostile.join('\n')}\n`)
    await h.close()
    const keys = await listKeys(s3, '')
    const ours = keys.filter((k) => k.startsWith(prefix))
    expect(ours).toHaveLength(4)
    for (const key of ours) expect(key).toMatch(KEY)
    // Nothing landed outside the prefix because of these records (other tests use their own prefixes).
    expect(keys.every((k) => /^t-\d+-[a-z0-9]+-\d+\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.json\.gz$/.test(k) || k.startsWith('pino-sluice/'))).toBe(true)
    const byMsg = new Map((await rows(h)).map((r) => [r.msg, r]))
    const beforeEpoch = await materialize(byMsg.get('before epoch') as never, { s3: localS3Options({ prefix }) })
    expect(Object.getOwnPropertyDescriptor(beforeEpoch, '__proto__')?.value).toBe(big('a'))
    expect(beforeEpoch?.['../../x']).toBe(big('b'))
    expect(beforeEpoch?.['/abs\u0001\n']).toBe(big('c'))
    expect(await materialize(byMsg.get('forged') as never, { s3: localS3Options({ prefix }) })).toMatchObject({ forgedElsewhere, forgedPath })
    // The far-future record's payload is offloaded like the others; whether Postgres stores year 275760 is the sink's business.
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 3, offloaded: 4, offloadFailed: 0 })
    expect(s.written + s.failed).toBe(3)
    expectBalanced(h.stats, expect)
  })

  // Issue 27, item 14: the bucket may hold other objects than this writer's payloads.
  it('materialize follows pointers only to keys under the configured prefix; another key in the bucket is a clear error', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 1024 }) })
    h.logger.info({ payload: 'z'.repeat(5000) }, 'under a prefix')
    await h.close()
    const [row] = await sql`select * from ${sql(h.table)} where msg = 'under a prefix'`
    const ref = (row?.data as { payload: { $ref: string } }).payload.$ref
    expect(await materialize(row as never, { s3: localS3Options({ prefix }) })).toMatchObject({ payload: 'z'.repeat(5000) })
    const other = uniquePrefix()
    await expect(materialize(row as never, { s3: localS3Options({ prefix: other }) })).rejects.toThrow(
      `field "payload" points to ${ref}, outside the key prefix "${other}"; only payloads under the prefix are fetched. Pass the s3.prefix the writer used (sluice materialize --prefix; '' for none).`,
    )
    // With no prefix given, the transport's default 'pino-sluice/' applies.
    await expect(materialize(row as never, { s3: localS3Options() })).rejects.toThrow(/outside the key prefix "pino-sluice\/"/)
    await expect(materialize(row as never, { s3: { bucket: S3_TEST_BUCKET, client: s3, prefix: other } })).rejects.toThrow(/outside the key prefix/)
    expect(await materialize(row as never, { s3: { bucket: S3_TEST_BUCKET, client: s3, prefix } })).toMatchObject({ payload: 'z'.repeat(5000) })

    // Through the CLI, with a planted pointer whose key carries terminal escapes: exit 1, the key shown escaped.
    const hash = (row?.data as { payload: { sha256: string } }).payload.sha256
    const planted = { $ref: `s3://${S3_TEST_BUCKET}/\u001b]0;pwned\u0007/2024/01/01/${hash}.json.gz`, bytes: 5002, sha256: hash, encoding: 'gzip' }
    const [plantedRow] = await sql`insert into ${sql(h.table)} (time, level, msg, writer_id, seq, data) values (now(), 30, 'planted', 'x', 1, ${sql.json({ payload: planted })}) returning id`
    const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
    const common = ['--url', databaseUrl(), '--table', h.table, '--bucket', S3_TEST_BUCKET, '--endpoint', s3Endpoint!, '--force-path-style', '--checksums', 'WHEN_REQUIRED']
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [cli, 'materialize', ...args, ...common], { env }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })),
      )
    const wrong = await run([String(row?.id), '--prefix', other])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`outside the key prefix "${other}"`)
    const hostile = await run([String(plantedRow?.id), '--prefix', prefix])
    expect(hostile.code).toBe(1)
    expect(hostile.stderr).toContain(`points to s3://${S3_TEST_BUCKET}/\\u001b]0;pwned\\u0007/2024/01/01/`)
    expect(hostile.stderr).not.toContain('\u001b')
    expect((await run([String(row?.id), '--prefix', prefix])).code).toBe(0)
    expectBalanced(h.stats, expect)
  })

  it('turns a 10 MB single line into a row and an object instead of dropping it', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix }) })
    const blob = 'ten megabytes '.repeat(Math.ceil((10 * MiB) / 14))
    h.logger.info({ blob }, 'huge')
    await h.close()
    const [row] = await sql`select *, octet_length(data::text) as data_bytes from ${sql(h.table)} where msg = 'huge'`
    expect(row?.data_bytes).toBeLessThan(1024)
    expect((row?.data as { blob: { bytes: number } }).blob.bytes).toBe(blob.length + 2)
    const record = await materialize(row as never, { s3: localS3Options({ prefix }) })
    expect(record?.blob).toBe(blob)
    expect(h.stats.read()).toMatchObject({ received: 1, written: 1, dropped: 0, offloaded: 1 })
    expectBalanced(h.stats, expect)
  })

  it('still drops, and counts, a line above s3.maxRecordBytes', async () => {
    const h = await startTransport({ s3: localS3Options({ prefix: uniquePrefix(), maxRecordBytes: 2 * MiB }) })
    h.logger.info({ blob: 'x'.repeat(3 * MiB) }, 'too huge')
    h.logger.info({ blob: 'y'.repeat(1.5 * MiB) }, 'big but allowed')
    await h.close()
    expect((await rows(h)).map((r) => r.msg)).toEqual(['big but allowed'])
    expect(h.stats.read()).toMatchObject({ received: 2, written: 1, droppedBy: { too_large: 1 }, offloaded: 1 })
    expectBalanced(h.stats, expect)
  })

  it('offloads a span payload and the span stays a span row, pointer in its payload column', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 4096 }) })
    const tracer = createTracer(h.logger)
    const output = 'o'.repeat(50_000)
    await tracer.span('llm call', async (span) => {
      span.setPayload({ input: { prompt: 'summarize' }, output })
    })
    await h.close()
    const [span] = await sql`select * from ${sql(`${h.table}_spans`)}`
    expect(span).toMatchObject({ name: 'llm call', status: 'ok', payload: { $ref: expect.stringMatching(/^s3:\/\//), encoding: 'gzip' } })
    const { text } = await objectText((span?.payload as { $ref: string }).$ref)
    expect(JSON.parse(text)).toEqual({ input: { prompt: 'summarize' }, output })
    expect(await materialize(span as never, { s3: localS3Options({ prefix }) })).toMatchObject({ name: 'llm call', payload: { input: { prompt: 'summarize' }, output } })
    expect(h.stats.read()).toMatchObject({ received: 1, written: 1, spans: 1, offloaded: 1 })
    expectBalanced(h.stats, expect)
  })

  it('from a trace to its prompt without SQL: trace --json gives row ids and pointers, materialize --span / --spans fetch the payload', async () => {
    const prefix = uniquePrefix()
    const h = await startTransport({ s3: localS3Options({ prefix, thresholdBytes: 4096 }) })
    const tracer = createTracer(h.logger)
    const prompt = 'p'.repeat(30_000)
    await tracer.span('llm call', async (span) => {
      h.logger.info({ trace_id: span.traceId, span_id: span.spanId, big: 'b'.repeat(10_000) }, 'asked')
      span.setPayload({ input: { prompt }, output: 'fine' })
    })
    await h.close()
    const [span] = await sql`select id::text, trace_id, span_id from ${sql(`${h.table}_spans`)}`
    const cli = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
    const run = async (args: string[]): Promise<unknown> => JSON.parse((await promisify(execFile)(process.execPath, [cli, ...args, '--url', databaseUrl(), '--table', h.table], { env, maxBuffer: 16 * MiB })).stdout)
    const s3Args = ['--bucket', S3_TEST_BUCKET, '--prefix', prefix, '--endpoint', s3Endpoint!, '--force-path-style', '--checksums', 'WHEN_REQUIRED']

    const tree = (await run(['trace', span?.trace_id as string, '--json'])) as {
      tables: { logs: string; spans: string }
      roots: { span: { rowId: string; hasPayload: boolean; pointers: Record<string, { $ref: string }> }; logs: { rowId: string; pointers: Record<string, { $ref: string }> }[] }[]
    }
    expect(tree.tables).toEqual({ logs: `public.${h.table}`, spans: `public.${h.table}_spans` })
    const root = tree.roots[0]!
    expect(root.span).toMatchObject({ rowId: span?.id, hasPayload: true, pointers: { payload: { $ref: expect.stringMatching(/^s3:\/\//) } } })
    const [logRow] = await sql`select id::text from ${sql(h.table)} where msg = 'asked'`
    expect(root.logs[0]).toMatchObject({ rowId: logRow?.id, pointers: { big: { $ref: expect.stringMatching(/^s3:\/\//) } } })

    const bySpanId = await run(['materialize', '--span', span?.span_id as string, ...s3Args])
    const byRowId = await run(['materialize', span?.id as string, '--spans', ...s3Args])
    expect(bySpanId).toMatchObject({ name: 'llm call', span_id: span?.span_id, payload: { input: { prompt }, output: 'fine' } })
    expect(byRowId).toEqual(bySpanId)
    const missing = await promisify(execFile)(process.execPath, [cli, 'materialize', '--span', '0123456789abcdef', ...s3Args, '--url', databaseUrl(), '--table', h.table], { env }).catch((e: { code: number; stderr: string }) => e)
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining(`no span with span_id 0123456789abcdef in public.${h.table}_spans`) })
  })

  it('keeps exact accounting through a mixed burst', async () => {
    const h = await startTransport({ s3: localS3Options({ prefix: uniquePrefix(), thresholdBytes: 2048 }), batch: { maxRecords: 50 } })
    for (let i = 0; i < 500; i++) {
      if (i % 10 === 0) h.logger.info({ i, payload: `${i}:${'z'.repeat(5000)}` }, 'big')
      else h.logger.info({ i }, 'small')
    }
    await h.close()
    const [counts] = await sql`select count(*)::int as n, count(*) filter (where data @? '$.* ? (exists (@."$ref"))')::int as pointers
      from ${sql(h.table)} where not (data ? 'pino_sluice')`
    expect(counts).toEqual({ n: 500, pointers: 50 })
    expect(h.stats.read()).toMatchObject({ received: 500, written: 500, dropped: 0, failed: 0, offloaded: 50, offloadFailed: 0 })
    expectBalanced(h.stats, expect)
  })
})
