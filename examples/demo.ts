/**
 * `npm run demo`: starts an embedded Postgres, logs a burst through the
 * pino-sluice transport, and prints the counters and a sample of the rows.
 * Needs no database, no network, and removes its temp data when done.
 */
import { once } from 'node:events'
import pino from 'pino'
import postgres from 'postgres'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { connect, type Sql } from '../sinks/postgres/connect.js'
import { resolveOptions } from '../src/options/resolve-options.js'
import { WORKER_ENTRY, createSluice, type Sluice, type SluiceStats } from '../src/index.js'
import { createTracer, sluiceMixin } from '../src/index.js'
import { tableNames } from '../sinks/postgres/table-names.js'
import { loadTrace } from '../src/spans/load-trace.js'
import { buildTraceTree, renderTraceTree } from '../src/spans/trace-tree.js'
import { startLocalS3 } from '../dev/local-s3.js'
import { materialize } from '../src/index.js'

const BURST = Number(process.env.DEMO_RECORDS ?? 200_000)

async function main(): Promise<void> {
  process.stdout.write('starting an embedded Postgres...\n')
  const database = await startLocalPostgres()
  const sql = postgres(database.url, { onnotice: () => {} })
  try {
    // 1. A burst the channel can hold: everything is committed; how fast, against raw COPY.
    // The ring (app thread) and the channel (worker) both sized to hold the burst: nothing dropped.
    const sluice = createSluice({
      postgres: { url: database.url, table: 'demo_logs' },
      ring: { bytes: 128 * 1024 * 1024 },
      channel: { maxRecords: BURST + 1000 },
      exit: { report: false },
    })
    await once(sluice.transport, 'ready')
    const log = pino(sluice.transport)
    process.stdout.write(`logging a burst of ${BURST.toLocaleString('en-US')} records in a tight loop (ring and channel sized to hold it)...\n`)
    const started = process.hrtime.bigint()
    for (let i = 0; i < BURST; i++) log.info({ i, user: i % 1000, route: '/checkout' }, 'request handled')
    const emitted = process.hrtime.bigint()
    await sluice.flush()
    const committed = process.hrtime.bigint()
    const s = sluice.stats.read()
    const sluiceRate = s.written / (ms(started, committed) / 1000)
    process.stdout.write(`  main thread: ${((ms(started, emitted) * 1e6) / BURST).toFixed(0)} ns per log call\n`)
    process.stdout.write(`  committed ${s.written.toLocaleString('en-US')} rows in ${ms(started, committed).toFixed(0)} ms: ${rate(sluiceRate)} rows/s end to end\n`)
    // The raw COPY gets the same TCP_NODELAY connection: without it each 1000-row COPY waits on a delayed ACK (~4x slower here).
    const copySql = connect(resolveOptions({ postgres: { url: database.url } }).postgres!)
    const copyRate = await rawCopyRate(copySql, BURST)
    await copySql.end()
    process.stdout.write(`  raw postgres.js COPY of the same rows: ${rate(copyRate)} rows/s (pino-sluice reaches ${(sluiceRate / copyRate).toFixed(2)}x)\n`)
    printCounters(s)

    // 2. The same burst into a small ring and the default channel (8192 records): the excess is dropped and counted.
    const small = createSluice({ postgres: { url: database.url, table: 'demo_overflow' }, ring: { bytes: 4 * 1024 * 1024 }, exit: { report: false } })
    await once(small.transport, 'ready')
    const smallLog = pino(small.transport)
    process.stdout.write(`\nthe same burst into a 4 MiB ring (the default is 32 MiB) and the default 8192-record channel: what does not fit is dropped and counted on the app thread...\n`)
    for (let i = 0; i < BURST; i++) smallLog.info({ i, user: i % 1000, route: '/checkout' }, 'request handled')
    smallLog.error({ err: { type: 'Error', message: 'payment declined' } }, 'something failed')
    await small.close()
    printCounters(small.stats.read())
    const sample = await sql`(select time, level, msg, data from demo_overflow order by seq limit 2)
      union all (select time, level, msg, data from demo_overflow where level >= 40 order by seq limit 2)`
    process.stdout.write('  sample rows (the warn row tells readers of the table about the drops):\n')
    for (const row of sample) {
      process.stdout.write(`    ${(row.time as Date).toISOString()}  ${row.level}  ${row.msg}  ${JSON.stringify(row.data).slice(0, 150)}\n`)
    }

    await demoTrace(sluice, database.url)
    await demoOffload(database.url)
    await sluice.close()
  } finally {
    await sql.end()
    await database.stop()
  }
}

const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6
const rate = (perSecond: number): string => Math.round(perSecond).toLocaleString('en-US')

function printCounters(s: SluiceStats): void {
  process.stdout.write(`  counters: received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`)
  const byReason = (prefix: string): string => Object.entries(s).filter(([name, n]) => name.startsWith(prefix) && n > 0).map(([name, n]) => `${name}=${n}`).join(' ') || 'none'
  process.stdout.write(`    dropped by reason: ${byReason('dropped_')}\n    failed by reason:  ${byReason('failed_')}\n`)
  process.stdout.write(`    received == written + dropped + failed: ${s.received === s.written + s.dropped + s.failed}\n`)
}

/**
 * The ceiling of the database path: COPY of the same rows, encoded in advance,
 * into a table with the same columns and indexes, in transactions of the same
 * size as pino-sluice's batches (1000).
 */
async function rawCopyRate(sql: Sql, count: number): Promise<number> {
  await sql`create table demo_copy (like demo_logs including all)`
  const now = Date.now()
  const batches: string[] = []
  for (let start = 0; start < count; start += 1000) {
    let text = ''
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      text += `${new Date(now + i).toISOString()}\t30\trequest handled\tdemo-host\t${process.pid}\traw-copy\t${i}\t\\N\t\\N\t{"i":${i},"user":${i % 1000},"route":"/checkout"}\n`
    }
    batches.push(text)
  }
  const started = process.hrtime.bigint()
  for (const text of batches) {
    await sql.begin(async (tx) => {
      await tx`set local synchronous_commit = off`
      const writable = await tx`copy demo_copy (time, level, msg, hostname, pid, writer_id, seq, trace_id, span_id, data) from stdin`.writable()
      await new Promise<void>((resolve, reject) => {
        writable.on('error', reject)
        writable.on('finish', resolve)
        writable.end(text)
      })
    })
  }
  return count / (ms(started, process.hrtime.bigint()) / 1000)
}

// ─── Spans: one traced "agent" request with two model calls, printed as `sluice trace` prints it ───

async function demoTrace(sluice: Sluice, url: string): Promise<void> {
  const log = pino({ mixin: sluiceMixin }, sluice.transport)
  const tracer = createTracer(log, {
    prices: { 'claude-haiku': { inputPerMTok: 1, outputPerMTok: 5, cacheReadPerMTok: 0.1, cacheCreationPerMTok: 1.25 } },
  })
  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
  let traceId = ''
  await tracer.span('answer question', { attributes: { route: '/ask' } }, async (root) => {
    traceId = root.traceId
    log.info({ question_chars: 42 }, 'question received')
    await tracer.span('plan', async (span) => {
      await pause(15)
      span.recordUsage({ model: 'claude-opus', inputTokens: 1200, outputTokens: 180, cacheReadTokens: 9000, cacheCreationTokens: 0, costUsd: 0.0341 })
    })
    await Promise.all([
      tracer.span('search docs', async () => pause(8).then(() => log.info({ hits: 3 }, 'documents found'))),
      tracer.span('summarize', async (span) => {
        await pause(12)
        span.setPayload({ input: { prompt: 'Summarize the three documents...' }, output: 'They agree on...' })
        span.recordUsage({ model: 'claude-haiku', inputTokens: 3000, outputTokens: 400, cacheCreationTokens: 2000 }) // priced from the table
      }),
    ])
    await tracer.span('cache answer', async () => {
      throw new Error('cache unavailable')
    }).catch(() => log.warn('answer not cached'))
  })
  await sluice.flush()
  const sql = postgres(url, { onnotice: () => {} })
  const trace = await loadTrace(sql, tableNames('public', 'demo_logs'), traceId)
  await sql.end()
  process.stdout.write(`
one trace (what \`sluice trace ${traceId} --table demo_logs\` prints):

`)
  process.stdout.write(renderTraceTree(buildTraceTree(trace), { color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined }))
}

// ─── Large payloads → S3: one record with a 200 KB field, a slim row with a pointer, then materialize() ───

async function demoOffload(url: string): Promise<void> {
  process.stdout.write('\nstarting a local S3 (s3rver) for the offload demo...\n')
  // The AWS SDK warns on every thread that its 2027 releases will need Node 22; the demo does not need to say so.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const storage = await startLocalS3({ buckets: ['demo-payloads'] })
  try {
    const s3 = { bucket: 'demo-payloads', thresholdBytes: 64 * 1024, ...storage.clientOptions }
    const transport = pino.transport({
      target: WORKER_ENTRY,
      options: { postgres: { url, table: 'demo_offload' }, s3, exit: { report: false } },
    })
    await once(transport, 'ready')
    const log = pino(transport)
    const output = Array.from({ length: 4000 }, (_, i) => `step ${i}: the model explains its reasoning at length.`).join('\n')
    log.info({ model: 'claude-haiku', input: { prompt: 'Explain the plan step by step' }, output }, 'llm call')
    // flush before end: end() blocks this thread until the worker is done, and s3rver runs in this thread.
    await new Promise<void>((resolve, reject) => transport.flush((err?: Error) => (err ? reject(err) : resolve())))
    transport.end()
    await once(transport, 'close')

    const sql = postgres(url, { onnotice: () => {} })
    const [row] = await sql`select id, msg, data, octet_length(data::text) as row_bytes from demo_offload
      where data @? '$.* ? (exists (@."$ref"))' limit 1`
    process.stdout.write(`a ${Math.round(Buffer.byteLength(output) / 1024)} KB output became a ${row?.row_bytes}-byte row:\n  ${JSON.stringify(row?.data)}\n`)
    const record = await materialize(String(row?.id), { sql, table: 'demo_offload', s3 })
    const text = String(record?.output)
    process.stdout.write(`materialize(${row?.id}) fetched it back: output is ${text.length} characters, identical: ${text === output}\n`)
    process.stdout.write(`  first line: ${text.split('\n')[0]}\n`)
    await sql.end()
  } finally {
    await storage.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
