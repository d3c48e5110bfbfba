import type { LogRecord } from '../../src/records/log-record.js'
import { workerProfile } from '../../src/profile/worker-profile.js'
import { isSpanValue } from '../../src/spans/span-record.js'
import type { BatchOutcome, Deadline, PrimarySink } from '../sink.js'
import { Backoff, sleep } from './backoff.js'
import { describeError, isTransient } from './classify-error.js'
import { connect, type Sql } from './connect.js'
import { copyLogRows, encodeCopyRows } from './copy-log-rows.js'
import { logsMigrations } from './logs-schema.js'
import { toLogRow, type LogRow } from './log-row.js'
import { migrate, type Migration } from './migrations.js'
import { partitionedTableMigrations, spansCitusMigration } from './partitioned-tables.js'
import type { PostgresOptions } from './postgres-options.js'
import { toSpanRow, type SpanRow } from './span-row.js'
import { insertSpanRows, spansMigrations } from './spans-schema.js'
import { statsMigrations } from './stats-rows.js'
import { TableMaintenance } from './table-maintenance.js'
import { tableNames, type TableNames } from './table-names.js'

export interface PostgresSinkHooks {
  /** Called once per retry of a batch (for the `retries` counter). */
  onRetry(): void
  /** Called with a one-line description of a problem worth telling the operator. */
  onProblem(message: string): void
  /** Called with the number of span rows each committed batch put in the spans table (for the `spans` counter). */
  onSpansWritten?(count: number): void
  /** The worker's counters, upserted into `<table>_stats` every `statsIntervalMs` (absent: no stats rows). */
  readCounters?(): Record<string, number>
}

/** Every migration the sink runs; partitioned parents (version 0) only when `postgres.partition` is on. */
export function postgresMigrations(options: Pick<PostgresOptions, 'partition'>): Migration[] {
  const partitioned = options.partition === false ? [] : partitionedTableMigrations(options.partition)
  return [...partitioned, ...logsMigrations, ...spansMigrations, spansCitusMigration, ...statsMigrations]
}

const EMPTY: BatchOutcome = { written: 0, rejected: 0, unavailable: 0 }

function add(a: BatchOutcome, b: BatchOutcome): BatchOutcome {
  return { written: a.written + b.written, rejected: a.rejected + b.rejected, unavailable: a.unavailable + b.unavailable }
}

/**
 * Writes batches into Postgres: one transaction per batch with
 * `synchronous_commit = off`, log rows by COPY and span rows (few, wide) in
 * one jsonb parameter. Transient failures are
 * retried with backoff; before a retry we ask the database whether the
 * previous attempt committed after all (by writer id and sequence range), so
 * a retry never duplicates rows. A batch the server refuses for its data is
 * split in halves until the records at fault are isolated and counted.
 */
export class PostgresSink implements PrimarySink {
  readonly name = 'postgres'
  readonly names: TableNames
  readonly sql: Sql
  private ready: Promise<void> | undefined
  private readonly maintenance: TableMaintenance

  constructor(
    private readonly options: PostgresOptions,
    readonly writerId: string,
    private readonly hooks: PostgresSinkHooks,
    private readonly migrations: readonly Migration[] = postgresMigrations(options),
  ) {
    this.names = tableNames(options.schema, options.table)
    this.sql = connect(options)
    this.maintenance = new TableMaintenance(this.sql, this.names, options, writerId, hooks)
  }

  start(deadline: Deadline): void {
    // Connection errors at start are retried by the first write; never crash the app.
    this.ensureReady(deadline).catch(() => {})
  }

  async write(records: LogRecord[], deadline: Deadline): Promise<BatchOutcome> {
    if (records.length === 0) return EMPTY
    try {
      await this.ensureReady(deadline)
    } catch (error) {
      this.hooks.onProblem(`cannot prepare tables: ${describeError(error)}`)
      return { ...EMPTY, unavailable: records.length }
    }
    return this.writeWithRetry(records, deadline)
  }

  async close(): Promise<void> {
    await this.maintenance.close()
    await this.sql.end({ timeout: 1 })
  }

  /** Runs migrations once; a transient failure is retried within the backoff budget, then reported to the caller. */
  private async ensureReady(deadline: Deadline): Promise<void> {
    this.ready ??= this.migrateWithRetry(deadline).catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  private async migrateWithRetry(deadline: Deadline): Promise<void> {
    const backoff = new Backoff(this.options.retry, deadline)
    for (;;) {
      try {
        await migrate(this.sql, this.names, this.migrations)
        await this.maintenance.afterMigrate()
        return
      } catch (error) {
        const wait = isTransient(error) ? backoff.next() : undefined
        if (wait === undefined) throw error
        this.hooks.onRetry()
        await sleep(wait)
      }
    }
  }

  private async writeWithRetry(records: LogRecord[], deadline: Deadline): Promise<BatchOutcome> {
    const backoff = new Backoff(this.options.retry, deadline)
    const mark = workerProfile?.now() ?? 0
    const rows = this.toRows(records)
    workerProfile?.add('encodeMs', mark)
    let attempted = false
    for (;;) {
      try {
        if (!attempted || !(await this.alreadyCommitted(records))) {
          attempted = true
          await this.insert(rows)
        }
        this.hooks.onSpansWritten?.(rows.spans.length)
        return { ...EMPTY, written: records.length }
      } catch (error) {
        if (!isTransient(error)) return this.isolateRejected(records, deadline, error)
        const wait = backoff.next()
        if (wait === undefined) {
          this.hooks.onProblem(`gave up on ${records.length} records after retries: ${describeError(error)}`)
          return { ...EMPTY, unavailable: records.length }
        }
        this.hooks.onRetry()
        await sleep(wait)
      }
    }
  }

  private async isolateRejected(records: LogRecord[], deadline: Deadline, error: unknown): Promise<BatchOutcome> {
    if (records.length === 1) {
      this.hooks.onProblem(`record rejected by Postgres: ${describeError(error)}`)
      return { ...EMPTY, rejected: 1 }
    }
    const middle = Math.ceil(records.length / 2)
    const first = await this.writeWithRetry(records.slice(0, middle), deadline)
    const second = await this.writeWithRetry(records.slice(middle), deadline)
    return add(first, second)
  }

  /** Sequence numbers within a batch are unique, so a full count means the earlier attempt committed. */
  private async alreadyCommitted(records: LogRecord[]): Promise<boolean> {
    let low = Number.POSITIVE_INFINITY
    let high = Number.NEGATIVE_INFINITY
    for (const record of records) {
      low = Math.min(low, record.seq)
      high = Math.max(high, record.seq)
    }
    // A batch's seq range covers both tables: span records go to the spans table.
    const { schema, logs, spans } = this.names
    const [row] = await this.sql<{ n: string }[]>`
      select (select count(*) from ${this.sql(schema)}.${this.sql(logs)}
                where writer_id = ${this.writerId} and seq between ${low} and ${high})
           + (select count(*) from ${this.sql(schema)}.${this.sql(spans)}
                where writer_id = ${this.writerId} and seq between ${low} and ${high}) as n`
    return Number(row?.n ?? 0) >= records.length
  }

  /** Span records become span rows; anything else (including malformed spans) becomes a log row. */
  private toRows(records: LogRecord[]): { logs: LogRow[]; spans: SpanRow[] } {
    const logs: LogRow[] = []
    const spans: SpanRow[] = []
    for (const record of records) {
      const span = isSpanValue(record.value) ? toSpanRow(record, this.writerId) : undefined
      if (span) spans.push(span)
      else logs.push(toLogRow(record, this.writerId))
    }
    return { logs, spans }
  }

  private async insert(rows: { logs: LogRow[]; spans: SpanRow[] }): Promise<void> {
    let mark = workerProfile?.now() ?? 0
    const copyText = encodeCopyRows(rows.logs)
    if (workerProfile) mark = workerProfile.add('encodeMs', mark)
    await this.maintenance.beforeInsert(rows)
    // synchronous_commit is set per connection (connect.ts), not per transaction: one round trip less per batch.
    // (A lone COPY outside a transaction would save BEGIN/COMMIT too, but postgres.js pipelines pooled
    // queries onto a connection mid-COPY, and its reserve() does not recover from a server crash.)
    let opened = false
    await this.sql
      .begin(async (tx) => {
        opened = true
        workerProfile?.txStarted()
        if (workerProfile) mark = workerProfile.add('waitBeforeCopyMs', mark)
        if (rows.logs.length > 0) await copyLogRows(tx as unknown as Sql, this.names, copyText)
        if (rows.spans.length > 0) await insertSpanRows(tx as unknown as Sql, this.names, rows.spans)
        if (workerProfile) mark = workerProfile.now()
      })
      .finally(() => {
        if (!opened || !workerProfile) return
        workerProfile.add('commitMs', mark)
        workerProfile.txEnded()
      })
  }
}
