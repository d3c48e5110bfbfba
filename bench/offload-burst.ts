/**
 * What offloading costs: rows/s of a tight-loop burst where 1% of records
 * carry a 200 KB payload (offloaded to a local S3), against the same burst
 * without payloads. Both run through the real transport into an embedded
 * Postgres, with a channel big enough that nothing is dropped, so rows/s
 * means committed rows. Run after a build:
 *
 *   node dist/bench/offload-burst.js [--records 50000] [--payload-kb 200] [--every 100] [--repeats 1] [--concurrency 8]
 *
 * A third run keeps the payloads inline (no S3) to show what offloading adds.
 */
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pino from 'pino'
import postgres from 'postgres'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { startLocalS3 } from '../dev/local-s3.js'
import { createStats, type SluiceOptions, type SluiceStats } from '../src/index.js'

const WORKER_ENTRY = fileURLToPath(new URL('../src/index.js', import.meta.url))
const MiB = 1024 * 1024

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    'payload-kb': { type: 'string', default: '200' },
    every: { type: 'string', default: '100' },
    repeats: { type: 'string', default: '1' },
    concurrency: { type: 'string' },
  },
})
const RECORDS = Number(values.records)
const PAYLOAD_BYTES = Number(values['payload-kb']) * 1024
const EVERY = Number(values.every)
const CONCURRENCY = values.concurrency === undefined ? undefined : Number(values.concurrency)
const REPEATS = Number(values.repeats)

/** Text-like payload (gzip shrinks it about as much as real prompts and responses); the record number makes each one unique. */
function makePayloadBase(bytes: number): string {
  const words = ['the', 'model', 'returned', 'a', 'long', 'answer', 'about', 'tokens', 'latency', 'cost', 'span', 'trace', 'user', 'asked', 'why']
  let seed = 42
  const parts: string[] = []
  let length = 0
  while (length < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const word = words[seed % words.length] as string
    parts.push(word)
    length += word.length + 1
  }
  return parts.join(' ').slice(0, bytes)
}

interface RunResult {
  ms: number
  stats: SluiceStats
}

async function runBurst(databaseUrl: string, table: string, s3: SluiceOptions['s3'], withPayloads: boolean, payloadBase: string): Promise<RunResult> {
  const stats = createStats()
  const transport = pino.transport({
    target: WORKER_ENTRY,
    options: {
      postgres: { url: databaseUrl, table },
      channel: { maxRecords: RECORDS + 1000, maxBytes: 2048 * MiB },
      s3,
      counters: stats.buffer,
      exit: { report: false },
    } satisfies SluiceOptions,
  })
  progress(`${table}: starting the transport`)
  transport.on('error', (error: Error) => progress(`${table}: transport error: ${error.stack ?? error.message}`))
  const worker = (transport as unknown as { worker?: import('node:worker_threads').Worker }).worker
  worker?.on('exit', (code) => progress(`${table}: worker exited with code ${code}`))
  await once(transport, 'ready')
  const log = pino(transport)
  progress(`${table}: emitting`)
  const started = performance.now()
  for (let i = 0; i < RECORDS; i++) {
    if (withPayloads && i % EVERY === 0) log.info({ i, user: i % 1000, route: '/chat', output: `${i} ${payloadBase}` }, 'llm call')
    else log.info({ i, user: i % 1000, route: '/chat' }, 'request handled')
  }
  progress(`${table}: emitted, flushing`)
  // A run that takes this long is stuck: say where, from the counters the worker publishes.
  const watchdog = setInterval(() => progress(`${table}: still flushing, counters ${JSON.stringify(stats.readFlat())}`), 30_000)
  await new Promise<void>((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve()))).finally(() => clearInterval(watchdog))
  const ms = performance.now() - started
  progress(`${table}: flushed, closing`)
  const closed = once(transport, 'close')
  transport.end()
  await closed
  return { ms, stats: stats.read() }
}

/** Where a run is, on stderr: a stuck run should say where it stopped. */
function progress(message: string): void {
  process.stderr.write(`  [${new Date().toISOString().slice(11, 23)}] ${message}\n`)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const database = await startLocalPostgres()
  const storage = await startLocalS3({ buckets: ['bench-offload'] })
  const sql = postgres(database.url, { onnotice: () => {}, max: 1 })
  const payloadBase = makePayloadBase(PAYLOAD_BYTES)
  const s3 = { bucket: 'bench-offload', ...storage.clientOptions, ...(CONCURRENCY ? { concurrency: CONCURRENCY } : {}) }
  try {
    const rows: string[] = []
    const scenarios = [
      ['no payloads', false, s3],
      [`1% ${PAYLOAD_BYTES / 1024} KB → S3`, true, s3],
      [`1% ${PAYLOAD_BYTES / 1024} KB inline`, true, undefined],
    ] as const
    for (const [name, withPayloads, s3Options] of scenarios) {
      const rates: number[] = []
      let last: RunResult | undefined
      for (let r = 0; r < REPEATS; r++) {
        const table = `bench_offload_${withPayloads ? 'p' : 'n'}_${s3Options ? 's3' : 'inline'}_${r}`
        last = await runBurst(database.url, table, s3Options, withPayloads, payloadBase)
        const [row] = await sql`select count(*)::int as n, coalesce(sum(pg_column_size(data)), 0)::bigint as bytes from ${sql(table)} where not (data ? 'pino_sluice')`
        if (row?.n !== RECORDS || last.stats.written < RECORDS || last.stats.dropped > 0 || last.stats.failed > 0) {
          throw new Error(`${name}: expected ${RECORDS} rows and no losses, got ${row?.n} rows, stats ${JSON.stringify(last.stats)}`)
        }
        rates.push(RECORDS / (last.ms / 1000))
        rows.push(`  ${name.padEnd(24)} run ${r + 1}: ${Math.round(last.ms)} ms, table data ${(Number(row.bytes) / MiB).toFixed(1)} MiB`)
        await sql`drop table ${sql(table)}`
      }
      const s = last as RunResult
      rows.push(
        `${name.padEnd(26)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(9)} rows/s   offloaded=${s.stats.offloaded} (${(s.stats.offloadedBytes / MiB).toFixed(1)} MiB) offload_failed=${s.stats.offloadFailed}`,
      )
    }
    process.stdout.write(`offload burst: ${RECORDS.toLocaleString('en-US')} records, median of ${REPEATS}, node ${process.version}\n${rows.join('\n')}\n`)
  } finally {
    await sql.end()
    await storage.stop()
    await database.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`offload bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
