/**
 * Many writers into one Postgres: aggregate committed rows/s with 1, 2 and 4
 * writer processes (each an app with its own pino-sluice worker) into one
 * table, for partition false / 'day' / 'hour' in the same run, plus the
 * database-side cost of one 1000-row insert into a plain vs a partitioned
 * table. Uses DATABASE_URL or starts an embedded Postgres.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/writers.js [--records 40000] [--rounds 2]
 *
 * Each writer emits in bursts of 1000 and waits for flush (committed) after
 * each, so the figure is what the database path sustains, not the drop rate.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pino from 'pino'
import postgres from 'postgres'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { orExitWithReason } from '../dev/local-postgres-failure.js'
import { createStats } from '../src/index.js'
import type { Sql } from '../sinks/postgres/connect.js'
import { copyLogRows, encodeCopyRow } from '../sinks/postgres/copy-log-rows.js'
import type { LogRow } from '../sinks/postgres/log-row.js'
import { migrate } from '../sinks/postgres/migrations.js'
import type { PartitionPeriod } from '../sinks/postgres/partition-options.js'
import { PartitionKeeper } from '../sinks/postgres/partitions.js'
import { postgresMigrations } from '../sinks/postgres/postgres-sink.js'
import { tableNames } from '../sinks/postgres/table-names.js'

const WORKER_ENTRY = fileURLToPath(new URL('../src/index.js', import.meta.url))
const SELF = fileURLToPath(import.meta.url)
type Partition = PartitionPeriod | false

interface ChildResult {
  startedMs: number
  endedMs: number
  counters: Record<string, number>
}

/** One writer process: waits for the common start time, emits, flushes, reports. */
async function child(url: string, table: string, partition: Partition, records: number, startAt: number): Promise<void> {
  // pino's worker thread is unref'd: while we await a flush nothing else would keep the process alive.
  const keepAlive = setInterval(() => {}, 1000)
  const stats = createStats()
  const transport = pino.transport({
    target: WORKER_ENTRY,
    options: { postgres: { url, table, partition, statsIntervalMs: 0 }, counters: stats.buffer, exit: { report: false } },
  })
  await once(transport, 'ready')
  const logger = pino(transport)
  const flush = (): Promise<void> => new Promise((resolve, reject) => transport.flush((e?: Error) => (e ? reject(e) : resolve())))
  // Let the worker migrate before the clock starts: the bench is about steady writing.
  logger.info('warm-up')
  await flush()
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())))
  const startedMs = Date.now()
  for (let i = 0; i < records; i++) {
    logger.info({ i, user: { id: i % 997, plan: 'pro' }, route: '/api/orders', status: 200, ms: (i % 83) / 10 }, 'request served')
    if (i % 1000 === 999) await flush()
  }
  await flush()
  const endedMs = Date.now()
  const closed = once(transport, 'close')
  transport.end()
  await closed
  clearInterval(keepAlive)
  const result: ChildResult = { startedMs, endedMs, counters: stats.read() as unknown as Record<string, number> }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

async function runWriters(url: string, table: string, partition: Partition, writers: number, records: number): Promise<{ rowsPerSecond: number; dropped: number; rows: number }> {
  const startAt = Date.now() + 1500 + writers * 400
  const children = Array.from({ length: writers }, () => {
    const proc = spawn(process.execPath, [SELF, 'child', url, table, String(partition), String(records), String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    return once(proc, 'exit').then(([code]) => {
      if (code !== 0 || !out.trim()) throw new Error(`writer exited with ${String(code)} and ${out.trim() ? 'a report' : 'no report'}`)
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildResult
    })
  })
  const results = await Promise.all(children)
  const started = Math.min(...results.map((r) => r.startedMs))
  const ended = Math.max(...results.map((r) => r.endedMs))
  const written = results.reduce((sum, r) => sum + (r.counters.written ?? 0), 0) - writers // minus the warm-up records
  const dropped = results.reduce((sum, r) => sum + (r.counters.dropped ?? 0) + (r.counters.failed ?? 0), 0)
  const sql = postgres(url, { onnotice: () => {}, max: 1 })
  const [row] = await sql`select count(*)::int as n from ${sql(table)} where msg = 'request served'`
  await sql.end()
  return { rowsPerSecond: written / ((ended - started) / 1000), dropped, rows: Number(row?.n) }
}

function sampleRows(n: number, writerId: string, seq0: number): LogRow[] {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => ({
    t: now + i,
    level: 30,
    msg: 'request served',
    hostname: 'bench',
    pid: 1,
    writer_id: writerId,
    seq: seq0 + i,
    trace_id: null,
    span_id: null,
    data: { i, user: { id: i % 997, plan: 'pro' }, route: '/api/orders', status: 200 },
  }))
}

/**
 * Database-side cost of one 1000-row insert transaction, without the pipeline
 * around it: median ms per setting. The settings take turns batch by batch, so
 * a busy neighbour on the machine slows them all alike.
 */
async function insertCosts(url: string, partitions: readonly Partition[], batches: number): Promise<Record<string, number>> {
  const sql = postgres(url, { onnotice: () => {}, max: 1 }) as unknown as Sql
  const targets = []
  for (const partition of partitions) {
    const table = `bench_insert_${process.pid}_${String(partition)}`
    const names = tableNames('public', table)
    await migrate(sql, names, postgresMigrations({ partition }))
    const keeper = new PartitionKeeper(sql, 'public', table, 'time', 7 * 86_400_000)
    await keeper.ensureAhead()
    targets.push({ partition, table, names, keeper, times: [] as number[] })
  }
  for (let b = 0; b < batches; b++) {
    for (const target of targets) {
      const rows = sampleRows(1000, 'bench', b * 1000)
      const started = performance.now()
      await target.keeper.ensure(rows.map((r) => r.t))
      await sql.begin(async (tx) => {
        await tx`set local synchronous_commit = off`
        await copyLogRows(tx as unknown as Sql, target.names, Buffer.from(rows.map(encodeCopyRow).join('')))
      })
      target.times.push(performance.now() - started)
    }
  }
  const medians: Record<string, number> = {}
  for (const target of targets) {
    target.times.sort((a, b) => a - b)
    medians[String(target.partition)] = target.times[Math.floor(target.times.length / 2)] ?? Number.NaN
    await sql.unsafe(`drop table if exists ${target.table}, ${target.table}_spans, ${target.table}_stats cascade`)
    await sql`delete from pino_sluice_migrations where target = ${target.table}`
  }
  await sql.end()
  return medians
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '2' } } })
  const records = Number(values.records)
  const rounds = Number(values.rounds)
  const local = process.env.DATABASE_URL ? undefined : await orExitWithReason(() => startLocalPostgres())
  const url = process.env.DATABASE_URL ?? (local?.url as string)
  const admin = postgres(url, { onnotice: () => {}, max: 1 })
  const [version] = await admin`show server_version`
  const partitions: Partition[] = [false, 'day', 'hour']
  const best = new Map<string, number>()
  let run = 0
  try {
    for (let round = 0; round < rounds; round++) {
      for (const writers of [1, 2, 4]) {
        // Alternate the order per round so drift (cache, autovacuum) does not favour one setting.
        for (const partition of round % 2 === 0 ? partitions : [...partitions].reverse()) {
          const table = `bench_writers_${process.pid}_${run++}`
          const result = await runWriters(url, table, partition, writers, records)
          if (result.dropped > 0 || result.rows !== writers * records) process.stderr.write(`warning: ${table} dropped/failed ${result.dropped}, rows ${result.rows}\n`)
          const key = `${writers}|${String(partition)}`
          best.set(key, Math.max(best.get(key) ?? 0, result.rowsPerSecond))
          process.stderr.write(`round ${round + 1}: ${writers} writer(s), partition ${String(partition)}: ${Math.round(result.rowsPerSecond)} rows/s\n`)
          await admin.unsafe(`drop table if exists ${table}, ${table}_spans, ${table}_stats cascade`)
          await admin`delete from pino_sluice_migrations where target = ${table}`
        }
      }
    }
    const costs = await insertCosts(url, partitions, 150)
    const lines = [
      `Postgres ${String(version?.server_version)} (embedded, same machine), ${records} records per writer, best of ${rounds} rounds; rows/s committed, all writers together`,
      '',
      '| writers | partition false | partition day | partition hour |',
      '|---:|---:|---:|---:|',
      ...[1, 2, 4].map((w) => `| ${w} | ${partitions.map((p) => Math.round(best.get(`${w}|${String(p)}`) ?? 0).toLocaleString('en-US')).join(' | ')} |`),
      '',
      `One 1000-row insert transaction (median of 150 each, settings interleaved, ms): plain ${costs.false?.toFixed(1)}, day ${costs.day?.toFixed(1)}, hour ${costs.hour?.toFixed(1)}`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    await admin.end()
    await local?.stop()
  }
}

if (process.argv[2] === 'child') {
  const [, , , url, table, partition, records, startAt] = process.argv
  await child(url as string, table as string, partition === 'false' ? false : (partition as PartitionPeriod), Number(records), Number(startAt))
} else {
  await main()
}
