/**
 * `node dist/bench/server-row-cost.js [--records 200000] [--rounds 3]`
 *
 * What the Postgres server spends per log row (issue 25, item 5), and on
 * what: the same COPY text, made by the worker's own encoder from the bench's
 * pino lines, sent in 5,000-row transactions (synchronous_commit off, as the
 * sink sends it) into pino-sluice's table and into tables with less to do
 * each: one table instead of daily partitions, no index, `data` as json
 * (validated, stored as text) or as text. Server CPU from /proc (the
 * postmaster and its backends), rounds interleaved, medians.
 */
import { parseArgs } from 'node:util'
import pino from 'pino'
import postgres from 'postgres'
import { startLocalPostgres } from '../dev/local-postgres.js'
import type { Sql } from '../sinks/postgres/connect.js'
import { copyLogRows } from '../sinks/postgres/copy-log-rows.js'
import { EncodedBatch } from '../sinks/postgres/encoded-batch.js'
import { LOG_COLUMNS_SQL } from '../sinks/postgres/logs-schema.js'
import { migrate } from '../sinks/postgres/migrations.js'
import { postgresMigrations } from '../sinks/postgres/postgres-sink.js'
import { tableNames, type TableNames } from '../sinks/postgres/table-names.js'
import type { LogRecord } from '../sinks/shared/log-record.js'
import { readLine } from '../src/records/read-line.js'
import type { BenchSql } from './bench-database.js'
import { logArgs } from './bench-record.js'
import { median } from './report/median.js'
import { serverCpuMs } from './report/server-cpu.js'

const BATCH = 5000
const WRITER = 'bench-host:1:abcd'

interface Variant {
  name: string
  create(sql: BenchSql, names: TableNames): Promise<unknown>
}

const plainTable = (sql: BenchSql, names: TableNames, columns: string): Promise<unknown> => sql`create table ${sql(names.logs)} (${sql.unsafe(columns)})`

const VARIANTS: readonly Variant[] = [
  { name: "pino-sluice's table (daily partitions, BRIN on time, partial index on trace_id)", create: (sql, names) => migrate(sql as unknown as Sql, names, postgresMigrations({ partition: 'day' })) },
  { name: 'one table, the same indexes (partition: false)', create: (sql, names) => migrate(sql as unknown as Sql, names, postgresMigrations({ partition: false })) },
  { name: 'one table, no index (the COPY ceiling of npm run bench)', create: (sql, names) => plainTable(sql, names, LOG_COLUMNS_SQL) },
  { name: 'one table, no index, data json instead of jsonb', create: (sql, names) => plainTable(sql, names, LOG_COLUMNS_SQL.replaceAll('jsonb', 'json')) },
  { name: 'one table, no index, data text', create: (sql, names) => plainTable(sql, names, LOG_COLUMNS_SQL.replace(/data jsonb.*$/s, 'data text')) },
]

/** The bench's record as pino writes it, encoded by the worker's own path into 5,000-row COPY batches. */
function copyBatches(records: number): Buffer[] {
  const lines: string[] = []
  const logger = pino({}, { write: (line: string) => void lines.push(line.slice(0, -1)) })
  for (let i = 0; i < records; i++) logger.info(...logArgs(i))
  const batches: Buffer[] = []
  for (let at = 0; at < lines.length; at += BATCH) {
    const batch: LogRecord[] = []
    for (let i = at; i < Math.min(at + BATCH, lines.length); i++) {
      const line = lines[i] as string
      const read = readLine(line, Buffer.byteLength(line), i + 1, Date.now())
      if (read.ok) batch.push(read.record)
    }
    // Copied out: the encoder's buffer goes back to its pool.
    batches.push(Buffer.from(EncodedBatch.encode(batch, WRITER).copyData))
  }
  return batches
}

async function serverUsPerRow(sql: BenchSql, port: number, variant: Variant, table: string, batches: readonly Buffer[], records: number): Promise<number> {
  const names = tableNames('public', table)
  await variant.create(sql, names)
  const before = serverCpuMs(port)
  for (const data of batches) await sql.begin((tx) => copyLogRows(tx as unknown as Sql, names, data))
  const after = serverCpuMs(port)
  await sql`drop table ${sql(names.logs)} cascade`
  if (before === undefined || after === undefined) throw new Error('server CPU is read from /proc (Linux only)')
  return ((after - before) * 1000) / records
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3' } } })
  const records = Number(values.records)
  const rounds = Number(values.rounds)
  const batches = copyBatches(records)
  const database = await startLocalPostgres()
  // One connection, synchronous_commit off on it, as the sink connects (connect.ts).
  const sql = postgres(database.url, { max: 1, onnotice: () => {}, connection: { synchronous_commit: 'off' } })
  try {
    const samples = VARIANTS.map(() => [] as number[])
    for (let round = 1; round <= rounds; round++) {
      for (const [k, variant] of VARIANTS.entries()) samples[k]?.push(await serverUsPerRow(sql, database.port, variant, `row_cost_${round}_${k}`, batches, records))
    }
    const base = median(samples[0] ?? [])
    process.stdout.write(`Postgres server CPU per row, ${records.toLocaleString('en-US')} bench rows in ${BATCH}-row COPY transactions, medians of ${rounds}:\n`)
    for (const [k, variant] of VARIANTS.entries()) {
      const us = median(samples[k] ?? [])
      process.stdout.write(`  ${variant.name.padEnd(82)} ${us.toFixed(2).padStart(5)} µs  ${(us / base).toFixed(2)}×\n`)
    }
  } finally {
    await sql.end()
    await database.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`server-row-cost failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
