import type { LogRecord } from '../shared/log-record.js'
import { Deadline } from '../shared/deadline.js'
import { workerProfile } from '../shared/worker-profile.js'
import type { Sink, SinkCallContext, SinkResult } from '../sink.js'
import { replayOrigin } from '../shared/write-origin.js'
import { RetryWindow, sleep } from './backoff.js'
import { serverAddress } from './connection-string.js'
import { classifyError, describeError, errorCode, isTransient, isUnreachable } from './classify-error.js'
import { committedRanges, inRanges, recordCommit } from './commit-ledger.js'
import { connectDroppable, type Connections, type Sql } from './connect.js'
import { copyLogRows } from './copy-log-rows.js'
import { EncodedBatch } from './encoded-batch.js'
import { logsMigrations } from './logs-schema.js'
import { migrate, type Migration } from './migrations.js'
import { partitionedTableMigrations, spansCitusMigration } from './partitioned-tables.js'
import type { PostgresOptions } from './postgres-options.js'
import { insertSpanRows, spansMigrations } from './spans-schema.js'
import { statsMigrations } from './stats-rows.js'
import { TableMaintenance } from './table-maintenance.js'
import { tableNames, type TableNames } from './table-names.js'

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

/** What became of one batch (or part of it) at the database. Sums to its size. */
interface BatchOutcome {
  written: number
  rejected: number
  unavailable: number
}

const EMPTY: BatchOutcome = { written: 0, rejected: 0, unavailable: 0 }

function add(a: BatchOutcome, b: BatchOutcome): BatchOutcome {
  return { written: a.written + b.written, rejected: a.rejected + b.rejected, unavailable: a.unavailable + b.unavailable }
}

/** A statement limit reaches the server this much before the client gives up, so a live server's own timeout error comes first. */
const CLIENT_GRACE_MS = 250
/** Ending connections gracefully on close takes at most this long (then they are destroyed). */
const END_TIMEOUT_MS = 500

/** What an attempt that got no answer in time fails with (classified `retry`). */
function attemptTimeout(limitMs: number): Error {
  return Object.assign(new Error(`no answer from the database within ${limitMs} ms`), { code: 'ATTEMPT_TIMEOUT' })
}

function asResult(outcome: BatchOutcome): SinkResult {
  return { delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable }
}

/** When an attempt starting now must end. */
function attemptEnd(window: RetryWindow): number {
  return Date.now() + window.attemptLimitMs()
}

/**
 * Writes batches into Postgres: one transaction per batch with
 * `synchronous_commit = off`, log rows by COPY and span rows (few, wide) in
 * one jsonb parameter.
 *
 * Failures follow classify-error.ts. A transient failure is retried with
 * backoff within the batch's retry window (`postgres.retry.budgetMs`, shared
 * with the halves of a split batch and with the batches of the same outage).
 * Every attempt is bounded by that window twice: on the server
 * (`statement_timeout` and `lock_timeout` set in the transaction) and on the
 * client (the sockets are destroyed when no answer came, since a stalled
 * network path never answers at all). Before a retry we ask the commit ledger
 * (commit-ledger.ts) which of the batch's seqs an earlier attempt committed
 * (it may have, after its connection died) and write only the others; a
 * `23505` during a retry is checked the same way. A batch refused for
 * its data is split in halves until the records at fault are isolated.
 */
export class PostgresSink implements Sink {
  readonly name = 'postgres'
  /** Keeps its own concurrency (connections) and retries, and ends every call by its deadline. */
  readonly concurrent = true
  readonly names: TableNames
  readonly sql: Sql
  private readonly connections: Connections
  private ready: Promise<void> | undefined
  private readonly maintenance: TableMaintenance
  /** Aborted on exit: backoff waits end and no attempt starts any more. */
  private readonly stopping = new AbortController()
  /** Since when the database has been failing (undefined while it answers): one budget per outage, not per batch. */
  private failingSince: number | undefined
  private toldUnreachable = false

  constructor(
    private readonly options: PostgresOptions,
    readonly writerId: string,
    private readonly hooks: PostgresSinkHooks,
    private readonly migrations: readonly Migration[] = postgresMigrations(options),
  ) {
    this.names = tableNames(options.schema, options.table)
    this.connections = connectDroppable(options)
    this.sql = this.connections.sql
    this.maintenance = new TableMaintenance(this.sql, this.names, options, writerId, hooks)
  }

  start(context: SinkCallContext): void {
    // Connection errors at start are retried by the first write; never crash the app.
    this.ensureReady(this.retryWindow(Deadline.of(context))).catch(() => {})
  }

  /**
   * Not async: the batch is encoded at once and the records are not held
   * while it waits on the database (an async function keeps its arguments
   * until it returns; see EncodedBatch for why that matters).
   */
  write(records: readonly LogRecord[], context: SinkCallContext): Promise<SinkResult> {
    return this.writeBatch(records, Deadline.of(context)).then(asResult)
  }

  private writeBatch(records: readonly LogRecord[], deadline: Deadline): Promise<BatchOutcome> {
    if (records.length === 0) return Promise.resolve(EMPTY)
    const mark = workerProfile?.now() ?? 0
    // A replay from the disk spool keeps its first writer's id, and may have committed before (an uncertain commit, a crash): the ledger is asked first.
    const origin = replayOrigin(records)
    const uncertain = origin !== undefined
    let batch: EncodedBatch
    try {
      batch = EncodedBatch.encode(records, origin?.writerId ?? this.writerId)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    workerProfile?.add('encodeMs', mark)
    if (batch.unencodable === 0) return this.writeEncoded(batch, this.retryWindow(deadline), uncertain)
    this.hooks.onProblem(`record cannot be encoded for Postgres: ${describeError(batch.encodeError)}`)
    const refused: BatchOutcome = { ...EMPTY, rejected: batch.unencodable }
    return batch.size === 0 ? Promise.resolve(refused) : this.writeEncoded(batch, this.retryWindow(deadline), uncertain).then((outcome) => add(outcome, refused))
  }

  private async writeEncoded(batch: EncodedBatch, window: RetryWindow, uncertain: boolean): Promise<BatchOutcome> {
    try {
      await this.ensureReady(window)
    } catch (error) {
      this.hooks.onProblem(`cannot prepare tables: ${describeError(error)}`)
      return { ...EMPTY, unavailable: batch.size }
    }
    return this.writeWithRetry(batch, window, uncertain)
  }

  /**
   * Ends within `deadline` (1 s when none is given): the final stats row only
   * while the database answers, then the connections, destroyed if they do not
   * end in time.
   */
  async close(context?: SinkCallContext): Promise<void> {
    const end = context && Number.isFinite(context.deadline) ? context.deadline : Date.now() + 1000
    const answering = this.failingSince === undefined
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

  private retryWindow(deadline: Deadline): RetryWindow {
    const now = Date.now()
    return new RetryWindow(this.options.retry, deadline, this.options.connectTimeoutMs, Math.min(now, this.failingSince ?? now))
  }

  /** Runs migrations once; a transient failure is retried within the window, then reported to the caller. */
  private async ensureReady(window: RetryWindow): Promise<void> {
    this.ready ??= this.migrateWithRetry(window).catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  private async migrateWithRetry(window: RetryWindow): Promise<void> {
    for (;;) {
      try {
        await this.bounded(attemptEnd(window), () => migrate(this.sql, this.names, this.migrations))
        this.answered()
        // Partitions ahead and the first stats row: best effort, and never longer than this attempt may take.
        await Deadline.at(attemptEnd(window)).settles(this.maintenance.afterMigrate())
        return
      } catch (error) {
        if (!isTransient(error)) throw error
        this.failed(error)
        const wait = window.next()
        if (wait === undefined || this.stopping.signal.aborted) throw error
        this.hooks.onRetry()
        await sleep(wait, this.stopping.signal)
      }
    }
  }

  /**
   * `uncertain`: an earlier attempt at these rows (of the batch they were cut
   * from) ended without an answer and may have committed, or may yet, so the
   * ledger is asked before the next attempt.
   */
  private async writeWithRetry(batch: EncodedBatch, window: RetryWindow, uncertain = false): Promise<BatchOutcome> {
    let pending = batch
    let written = 0
    let unanswered = uncertain
    let attempts = 0
    for (;;) {
      if (this.stopping.signal.aborted) return { ...EMPTY, written, unavailable: pending.size }
      // One limit for the whole attempt (the check and the transaction), so the last one ends near the window's end.
      const end = attemptEnd(window)
      if (unanswered) {
        const checked = await this.checkCommitted(pending, end, window, (n) => (written += n))
        if (checked === 'refused') return { ...EMPTY, written, unavailable: pending.size }
        if (checked === 'retry') continue
        pending = checked
        if (pending.size === 0) return { ...EMPTY, written }
      }
      try {
        const retrying = attempts > 0 || unanswered
        attempts++
        const attempt = pending
        await this.bounded(end, (limitMs) => this.insert(attempt, retrying ? limitMs : undefined))
        this.answered()
        this.hooks.onSpansWritten?.(pending.spans.length)
        return { ...EMPTY, written: written + pending.size }
      } catch (error) {
        const verdict = classifyError(error)
        if (verdict === 'record') {
          this.answered()
          // 23505 on the ledger's key (or the spans table's): an earlier attempt committed while we retried. Not bad data.
          if (errorCode(error) === '23505') {
            const before = pending.size
            const checked = await this.checkCommitted(pending, attemptEnd(window), window, (n) => (written += n))
            if (checked === 'refused') return { ...EMPTY, written, unavailable: pending.size }
            if (checked === 'retry') continue
            pending = checked
            if (pending.size === 0) return { ...EMPTY, written }
            if (pending.size < before) continue
          }
          return add({ ...EMPTY, written }, await this.isolateRejected(pending, window, error, unanswered))
        }
        if (verdict === 'setup') {
          this.refused(error, pending.size)
          return { ...EMPTY, written, unavailable: pending.size }
        }
        // No answer: this attempt may have committed (or may yet), which the ledger tells before the next one.
        unanswered = true
        if (!(await this.backOff(error, window))) return { ...EMPTY, written, unavailable: pending.size }
      }
    }
  }

  /**
   * The rows of `batch` the ledger does not hold. A check that fails is never
   * taken for bad data (the batch would be split unchecked and its halves
   * could write committed rows again): 'retry' after a back-off, or 'refused'
   * (counted unavailable) when the database refuses us or the window is spent.
   */
  private async checkCommitted(batch: EncodedBatch, end: number, window: RetryWindow, onCommitted: (count: number) => void): Promise<EncodedBatch | 'retry' | 'refused'> {
    try {
      return await this.withoutCommitted(batch, end, onCommitted)
    } catch (error) {
      if (classifyError(error) === 'setup') {
        this.refused(error, batch.size)
        return 'refused'
      }
      return (await this.backOff(error, window)) ? 'retry' : 'refused'
    }
  }

  /** Postgres refuses our writes (permissions, a dropped table): reported, and the migrations run again before the next batch. */
  private refused(error: unknown, records: number): void {
    this.hooks.onProblem(`Postgres refuses the writes (${describeError(error)}); ${records} records counted failed_db_unavailable. Check the connection string, permissions and tables.`)
    // A dropped table is re-created by the migrations of the next batch.
    this.ready = undefined
  }

  /** After a transient failure: waits before the next attempt, or says (false) that the window is spent. */
  private async backOff(error: unknown, window: RetryWindow): Promise<boolean> {
    this.failed(error)
    const wait = window.next()
    if (wait === undefined || this.stopping.signal.aborted) {
      this.hooks.onProblem(`gave up on a batch after retries (postgres.retry.budgetMs): ${describeError(error)}`)
      return false
    }
    this.hooks.onRetry()
    await sleep(wait, this.stopping.signal)
    return true
  }

  /** Halves share the window: one batch never retries for longer than one budget. */
  private async isolateRejected(batch: EncodedBatch, window: RetryWindow, error: unknown, uncertain: boolean): Promise<BatchOutcome> {
    if (batch.size === 1) {
      this.hooks.onProblem(`record rejected by Postgres: ${describeError(error)}`)
      return { ...EMPTY, rejected: 1 }
    }
    // The low half starts at the batch's first seq, so its ledger row waits on an earlier attempt still
    // committing; the high half runs after it, when that attempt is settled and in the ledger if it committed.
    // (Unless the low half never reaches its insert: data refused now that an earlier attempt was accepted,
    // which takes a schema change between the two.)
    const [low, high] = batch.halves()
    const first = await this.writeHalf(low, window, uncertain)
    const second = await this.writeHalf(high, window, uncertain)
    return add(first, second)
  }

  private async writeHalf(batch: EncodedBatch, window: RetryWindow, uncertain: boolean): Promise<BatchOutcome> {
    // Once the window ran out on a transient failure, the rest of the batch is not attempted.
    if (window.exhausted) return { ...EMPTY, unavailable: batch.size }
    return this.writeWithRetry(batch, window, uncertain)
  }

  /**
   * The rows no committed transaction holds yet; `onCommitted` gets the number of the others.
   * A row counts as committed iff its seq lies in a committed range of the ledger. That is exact:
   * a writer's committed transactions have disjoint seq ranges, since a batch's records are in seq
   * order and a rejected batch is split into halves at a seq (EncodedBatch.halves), so every record
   * inside a committed range was in that transaction (logs and spans alike: the ledger row covers both tables).
   */
  private async withoutCommitted(batch: EncodedBatch, end: number, onCommitted: (count: number) => void): Promise<EncodedBatch> {
    const range = batch.seqRange()
    if (!range) return batch
    const ranges = await this.bounded(end, () => committedRanges(this.sql, this.names, batch.writerId, range))
    if (ranges.length === 0) return batch
    const rest = batch.keep((seq) => !inRanges(seq, ranges))
    onCommitted(batch.size - rest.size)
    this.hooks.onSpansWritten?.(batch.spans.length - rest.spans.length)
    return rest
  }

  /**
   * Runs one step of an attempt, which must end by `attemptEnd` (epoch ms; the
   * server gets the same limit as statement_timeout/lock_timeout). Past it,
   * plus a grace for the server's own timeout error to arrive, the sockets are
   * destroyed: on a stalled path nothing else ends a query that will never be
   * answered.
   */
  private async bounded<T>(attemptEnd: number, work: (limitMs: number) => Promise<T>): Promise<T> {
    const limitMs = Math.floor(attemptEnd - Date.now())
    if (limitMs <= 0) throw attemptTimeout(0)
    const attempt = work(limitMs)
    let timer: NodeJS.Timeout | undefined
    const cut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.connections.dropAll()
        reject(attemptTimeout(limitMs))
      }, limitMs + CLIENT_GRACE_MS)
    })
    try {
      return await Promise.race([attempt, cut])
    } finally {
      clearTimeout(timer)
      attempt.catch(() => {})
    }
  }

  /** The database failed with a transient error: an outage starts (or goes on). */
  private failed(error: unknown): void {
    this.failingSince ??= Date.now()
    if (!this.toldUnreachable && isUnreachable(error)) {
      this.toldUnreachable = true
      const budget = Math.round(this.options.retry.budgetMs / 1000)
      this.hooks.onProblem(
        `cannot reach the database at ${serverAddress(this.options.url)} (${describeError(error)}); records are held and retried for up to ${budget} s (postgres.retry.budgetMs), then counted failed_db_unavailable`,
      )
    }
  }

  /** The database answered: the outage, if any, is over. */
  private answered(): void {
    this.failingSince = undefined
    if (this.toldUnreachable) {
      this.toldUnreachable = false
      this.hooks.onProblem(`the database at ${serverAddress(this.options.url)} answers again; writing resumed`)
    }
  }

  /**
   * One transaction. Its statements are bounded by the connection's
   * statement_timeout and lock_timeout (the retry budget, connect.ts); a retry
   * tightens both to what is left of its window (`limitMs`), which costs a
   * round trip only then.
   */
  private async insert(batch: EncodedBatch, limitMs: number | undefined): Promise<void> {
    const range = batch.seqRange()
    if (!range) return
    let mark = workerProfile?.now() ?? 0
    await this.maintenance.beforeInsert(batch)
    // synchronous_commit is set per connection (connect.ts), not per transaction: one round trip less per batch.
    // (A lone COPY outside a transaction would save BEGIN/COMMIT too, but postgres.js pipelines pooled
    // queries onto a connection mid-COPY, and its reserve() does not recover from a server crash.)
    let opened = false
    const limit = limitMs === undefined ? undefined : String(limitMs)
    await this.sql
      .begin(async (tx) => {
        opened = true
        workerProfile?.txStarted()
        if (limit !== undefined) await tx`select set_config('statement_timeout', ${limit}, true), set_config('lock_timeout', ${limit}, true)`
        if (workerProfile) mark = workerProfile.add('waitBeforeCopyMs', mark)
        if (batch.logSeqs.length > 0) await copyLogRows(tx as unknown as Sql, this.names, batch.copyData)
        if (batch.spans.length > 0) await insertSpanRows(tx as unknown as Sql, this.names, batch.spans)
        // In the same transaction: the ledger row commits iff the rows do.
        await recordCommit(tx as unknown as Sql, this.names, batch.writerId, range, batch.size)
        if (workerProfile) mark = workerProfile.now()
      })
      .finally(() => {
        if (!opened || !workerProfile) return
        workerProfile.add('commitMs', mark)
        workerProfile.txEnded()
      })
  }
}
