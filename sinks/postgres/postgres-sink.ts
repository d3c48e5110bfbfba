import type { LogRecord } from '../shared/log-record.js'
import { Deadline } from '../shared/deadline.js'
import { workerProfile } from '../shared/worker-profile.js'
import type { Sink, SinkCallContext, SinkResult } from '../sink.js'
import { replayOrigin } from '../shared/write-origin.js'
import { RetryWindow } from './backoff.js'
import { BatchDatabase } from './batch-database.js'
import { describeError } from './classify-error.js'
import { connectDroppable, type Connections, type Sql } from './connect.js'
import { EncodedBatch } from './encoded-batch.js'
import { CopyTextPool } from './copy-text-pool.js'
import { logsMigrations } from './logs-schema.js'
import type { Migration } from './migrations.js'
import { Outage } from './outage.js'
import { partitionedTableMigrations, spansCitusMigration } from './partitioned-tables.js'
import type { PostgresOptions } from './postgres-options.js'
import { spansMigrations } from './spans-schema.js'
import { statsMigrations } from './stats-rows.js'
import { TableMaintenance } from './table-maintenance.js'
import { tableNames, type TableNames } from './table-names.js'
import { TablesReady } from './tables-ready.js'
import { writeBatch } from './write-batch.js'
import type { AttemptContext, BatchOutcome } from './write-attempts.js'

export interface PostgresSinkHooks {
  /** Called once per retry of a batch (for the `retries` counter). */
  onRetry(): void
  /** Called with a one-line description of a problem worth telling the operator (the caller prints each distinct line once). */
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
  const sum: BatchOutcome = { written: a.written + b.written, rejected: a.rejected + b.rejected, unavailable: a.unavailable + b.unavailable }
  const seqs = [...(a.unavailableSeqs ?? []), ...(b.unavailableSeqs ?? [])]
  if (seqs.length > 0) sum.unavailableSeqs = seqs
  return sum
}

/** Ending connections gracefully on close takes at most this long (then they are destroyed). */
const END_TIMEOUT_MS = 500

function asResult(outcome: BatchOutcome): SinkResult {
  const result: SinkResult = { delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable }
  // Which rows it gave up on: with a spool, exactly those are spooled (a batch can be written in part).
  if (outcome.unavailableSeqs) result.unavailableSeqs = outcome.unavailableSeqs
  return result
}

/**
 * Writes batches into Postgres: one transaction per batch with
 * `synchronous_commit = off`, log rows by COPY and span rows (few, wide) in
 * one jsonb parameter (batch-database.ts).
 *
 * Failures follow classify-error.ts. A transient failure is retried with
 * backoff within the batch's retry window (`postgres.retry.budgetMs`, shared
 * with the halves of a split batch and with the batches of the same outage).
 * Every attempt is bounded by that window twice: on the server
 * (`statement_timeout` and `lock_timeout` set in the transaction) and on the
 * client (the sockets are destroyed when no answer came, since a stalled
 * network path never answers at all: attempt-limit.ts). Before a retry we ask
 * the commit ledger (commit-ledger.ts) which of the batch's seqs an earlier
 * attempt committed (it may have, after its connection died) and write only
 * the others; a `23505` during a retry is checked the same way. A batch
 * refused for its data is split in halves until the records at fault are
 * isolated. Those decisions are write-attempts.ts; write-batch.ts performs them.
 */
export class PostgresSink implements Sink {
  readonly name = 'postgres'
  /** Keeps its own concurrency (connections) and retries, and ends every call by its deadline. */
  readonly concurrent = true
  readonly names: TableNames
  readonly sql: Sql
  private readonly connections: Connections
  private readonly maintenance: TableMaintenance
  private readonly tables: TablesReady
  private readonly database: BatchDatabase
  private readonly outage: Outage
  /** Aborted on exit: backoff waits end and no attempt starts any more. */
  private readonly stopping = new AbortController()
  private readonly copyTexts = new CopyTextPool()

  constructor(
    private readonly options: PostgresOptions,
    readonly writerId: string,
    private readonly hooks: PostgresSinkHooks,
    migrations: readonly Migration[] = postgresMigrations(options),
  ) {
    this.names = tableNames(options.schema, options.table)
    this.connections = connectDroppable(options)
    this.sql = this.connections.sql
    this.maintenance = new TableMaintenance(this.sql, this.names, options, writerId, hooks)
    this.outage = new Outage(options.url, options.retry.budgetMs, (message) => hooks.onProblem(message))
    this.database = new BatchDatabase(this.connections, this.names, this.maintenance)
    this.tables = new TablesReady({
      connections: this.connections,
      names: this.names,
      migrations,
      maintenance: this.maintenance,
      outage: this.outage,
      onRetry: () => hooks.onRetry(),
      stopping: this.stopping.signal,
    })
  }

  start(context: SinkCallContext): void {
    // Connection errors at start are retried by the first write; never crash the app.
    this.tables.ensure(this.retryWindow(() => context.deadline)).catch(() => {})
  }

  /**
   * Not async: the batch is encoded at once and the records are not held
   * while it waits on the database (an async function keeps its arguments
   * until it returns; see EncodedBatch for why that matters).
   */
  write(records: readonly LogRecord[], context: SinkCallContext): Promise<SinkResult> {
    return this.writeRecords(records, () => context.deadline).then(asResult)
  }

  /** `deadlineAt`: the call's deadline (epoch ms), read live, since it moves earlier on exit. */
  private writeRecords(records: readonly LogRecord[], deadlineAt: () => number): Promise<BatchOutcome> {
    if (records.length === 0) return Promise.resolve(EMPTY)
    const mark = workerProfile?.now() ?? 0
    // A replay from the disk spool keeps its first writer's id, and may have committed before (an uncertain commit, a crash): the ledger is asked first.
    const origin = replayOrigin(records)
    const uncertain = origin !== undefined
    let batch: EncodedBatch
    try {
      batch = EncodedBatch.encode(records, origin?.writerId ?? this.writerId, this.copyTexts)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    workerProfile?.add('encodeMs', mark)
    // Settled, the batch no longer reads its text; attempts still running hold it themselves (BatchDatabase.insert).
    const written = this.writeSome(batch, deadlineAt, uncertain)
    void written.finally(() => batch.release()).catch(() => {})
    return written
  }

  private writeSome(batch: EncodedBatch, deadlineAt: () => number, uncertain: boolean): Promise<BatchOutcome> {
    if (batch.unencodable === 0) return this.writeEncoded(batch, deadlineAt, uncertain)
    this.hooks.onProblem(`record cannot be encoded for Postgres: ${describeError(batch.encodeError)}`)
    const refused: BatchOutcome = { ...EMPTY, rejected: batch.unencodable }
    return batch.size === 0 ? Promise.resolve(refused) : this.writeEncoded(batch, deadlineAt, uncertain).then((outcome) => add(outcome, refused))
  }

  /**
   * Ends within `deadline` (1 s when none is given): the final stats row only
   * while the database answers, then the connections, destroyed if they do not
   * end in time.
   */
  async close(context?: SinkCallContext): Promise<void> {
    const end = context && Number.isFinite(context.deadline) ? context.deadline : Date.now() + 1000
    const answering = this.outage.since === undefined
    await this.maintenance.close(answering ? end - Date.now() - END_TIMEOUT_MS : 0)
    this.stopping.abort()
    const endMs = answering ? Math.min(END_TIMEOUT_MS, end - Date.now()) : 0
    await Deadline.at(end).settles(this.sql.end({ timeout: Math.max(0, endMs) / 1000 }))
    this.connections.dropAll()
  }

  /** Stops at once: waits end, statements in flight fail now (their records count as unavailable). */
  cutOff(): void {
    this.stopping.abort()
    this.connections.dropAll()
  }

  private async writeEncoded(batch: EncodedBatch, deadlineAt: () => number, uncertain: boolean): Promise<BatchOutcome> {
    const window = this.retryWindow(deadlineAt)
    try {
      await this.tables.ensure(window)
    } catch (error) {
      this.hooks.onProblem(`cannot prepare tables: ${describeError(error)}`)
      return { ...EMPTY, unavailable: batch.size, unavailableSeqs: batch.seqs() }
    }
    return writeBatch(batch, uncertain, this.database, this.attemptContext(window))
  }

  private retryWindow(deadlineAt: () => number): RetryWindow {
    const now = Date.now()
    return new RetryWindow(this.options.retry, deadlineAt, this.options.connectTimeoutMs, Math.min(now, this.outage.since ?? now))
  }

  private attemptContext(window: RetryWindow): AttemptContext {
    const { hooks, outage, tables } = this
    return {
      window,
      stopping: this.stopping.signal,
      onRetry: () => hooks.onRetry(),
      onProblem: (message) => hooks.onProblem(message),
      onSpansWritten: (count) => hooks.onSpansWritten?.(count),
      answered: () => outage.answered(),
      failed: (error) => outage.failed(error),
      refused: () => tables.forget(),
    }
  }
}
