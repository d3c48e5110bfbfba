import { Deadline } from '../shared/deadline.js'
import { pruneLedger } from './commit-ledger.js'
import type { Sql } from './connect.js'
import { PERIOD_MS } from './partition-periods.js'
import type { PostgresOptions } from './postgres-options.js'
import { PartitionKeeper } from './partitions.js'
import { applyRetention, planRetention } from './retention.js'
import type { SpanRow } from './span-row.js'
import { deleteStaleStatsRows, upsertStatsRow } from './stats-rows.js'
import type { TableNames } from './table-names.js'

/** Without retention, on-demand partitions reach this far back; older records go to the DEFAULT partition. */
const PAST_WINDOW_WITHOUT_RETENTION_MS = 7 * PERIOD_MS.day
/** A final stats row must not hold the exit when the database is gone. */
const FINAL_STATS_TIMEOUT_MS = 1000

export interface MaintenanceHooks {
  onProblem(message: string): void
  /** The worker's counters, for the stats rows; absent: no stats rows. */
  readCounters?(): Record<string, number>
}

/**
 * Everything the Postgres sink does besides inserting: partitions ahead of
 * time and on demand, retention, pruning the commit ledger, and the
 * per-writer stats row. Timers are unref'd (they never hold the process) and
 * stopped on close.
 */
export class TableMaintenance {
  private readonly logs: PartitionKeeper
  private readonly spans: PartitionKeeper
  private readonly startedAt = new Date()
  private maintenanceTimer: NodeJS.Timeout | undefined
  private statsTimer: NodeJS.Timeout | undefined
  private started = false
  private closed = false
  /** The periodic stats write in flight: a hung database must not queue one per interval. */
  private statsWriting: Promise<void> | undefined

  constructor(
    private readonly sql: Sql,
    private readonly names: TableNames,
    private readonly options: PostgresOptions,
    private readonly writerId: string,
    private readonly hooks: MaintenanceHooks,
  ) {
    const pastMs = options.retentionMs ?? PAST_WINDOW_WITHOUT_RETENTION_MS
    this.logs = new PartitionKeeper(sql, names.schema, names.logs, 'time', pastMs)
    this.spans = new PartitionKeeper(sql, names.schema, names.spans, 'start_time', pastMs)
  }

  /** Runs once the tables exist. Never throws: problems are reported and the next tick tries again. */
  async afterMigrate(): Promise<void> {
    if (this.started || this.closed) return
    this.started = true
    const periods = await this.guard('cannot read the partitions', () => Promise.all([this.logs.load(), this.spans.load()]))
    if (periods && periods[0] === undefined && this.options.partition !== false) {
      this.hooks.onProblem(
        `table ${this.names.schema}.${this.names.logs} is a plain table (created before postgres.partition was on): no partitions or retention for it; docs/scale.md of pino-sluice ("Time partitions") shows how to convert it, or set postgres.partition: false to keep it plain`,
      )
    }
    await this.tick()
    const period = periods?.[0] ?? periods?.[1]
    // Often enough that the next period exists well before it starts. Always on: the ledger needs pruning on any table.
    const every = period === 'hour' ? 10 * 60_000 : 60 * 60_000
    this.maintenanceTimer = setInterval(() => void this.tick(), every).unref()
    if (this.hooks.readCounters && this.options.statsIntervalMs > 0) {
      // Not awaited: a database that hangs right now must not hold the first batch (the guard keeps it to one write).
      void this.writeStatsOnce()
      this.statsTimer = setInterval(() => void this.writeStatsOnce(), this.options.statsIntervalMs).unref()
    }
  }

  /** Before a batch's transaction: the partitions its records need. A failure only sends records to DEFAULT. */
  async beforeInsert(batch: { logTimes: Float64Array; spans: readonly SpanRow[] }): Promise<void> {
    if (batch.logTimes.length > 0) await this.guard('cannot create a logs partition (records go to the DEFAULT partition)', () => this.logs.ensure(batch.logTimes))
    if (batch.spans.length > 0) await this.guard('cannot create a spans partition (records go to the DEFAULT partition)', () => this.spans.ensure(batch.spans.map((r) => r.start)))
  }

  /** Stops the timers and writes the final stats row, waiting `limitMs` at most for it (none when 0 or less). */
  async close(limitMs = FINAL_STATS_TIMEOUT_MS): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.maintenanceTimer)
    clearInterval(this.statsTimer)
    const waitMs = Math.min(limitMs, FINAL_STATS_TIMEOUT_MS)
    if (this.started && this.hooks.readCounters && this.options.statsIntervalMs > 0 && waitMs > 0) {
      // After a periodic write still in flight, or its late upsert would overwrite the final row.
      const periodic = this.statsWriting ?? Promise.resolve()
      await Deadline.in(waitMs).settles(periodic.then(() => this.writeStats(true)))
    }
  }

  private writeStatsOnce(): Promise<void> {
    this.statsWriting ??= this.writeStats(false).finally(() => (this.statsWriting = undefined))
    return this.statsWriting
  }

  /** Partitions ahead, the ledger's old rows, then retention. Retention uses a try-lock: with many writers, one does the work per round. */
  private async tick(): Promise<void> {
    await this.guard('cannot create partitions ahead', () => Promise.all([this.logs.ensureAhead(), this.spans.ensureAhead()]))
    // Whatever the retention, but only at start and every 10 or 60 min: one index range delete.
    await this.guard('cannot prune the commit ledger', () => pruneLedger(this.sql, this.names))
    const retentionMs = this.options.retentionMs
    if (retentionMs === undefined) return
    for (const [table, column] of [[this.names.logs, 'time'], [this.names.spans, 'start_time']] as const) {
      await this.guard(`retention on ${table} failed`, async () => {
        const plan = await planRetention(this.sql, this.names.schema, table, column, retentionMs)
        if (plan) await applyRetention(this.sql, plan, 'try')
      })
    }
    // One row per process ever started: rows of writers gone longer than the retention go too (a small table).
    await this.guard('retention on the stats table failed', () => deleteStaleStatsRows(this.sql, this.names, retentionMs))
  }

  private async writeStats(final: boolean): Promise<void> {
    const counters = this.hooks.readCounters?.()
    if (!counters) return
    await this.guard('cannot write the stats row', () => upsertStatsRow(this.sql, this.names, { writerId: this.writerId, startedAt: this.startedAt, final, counters }))
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work()
    } catch (error) {
      if (!this.closed) this.hooks.onProblem(`${what}: ${error instanceof Error ? error.message : String(error)}`)
      return undefined
    }
  }
}
