import { Deadline } from '../shared/deadline.js'
import type { Sql } from './connect.js'
import { upsertStatsRow } from './stats-rows.js'
import type { TableNames } from './table-names.js'

/**
 * This writer's row in `<table>_stats` (stats-rows.ts): upserted every
 * `intervalMs` (unref'd, never holding the process) and once more, `final`,
 * on close. A failed write is reported and the next interval tries again.
 */
export class StatsRowTimer {
  private readonly startedAt = new Date()
  private timer: NodeJS.Timeout | undefined
  private started = false
  private closed = false
  /** The periodic write in flight: a hung database must not queue one per interval. */
  private writing: Promise<void> | undefined

  constructor(
    private readonly sql: Sql,
    private readonly names: TableNames,
    private readonly writerId: string,
    private readonly intervalMs: number,
    /** The worker's counters. */
    private readonly readCounters: () => Record<string, number>,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Once the table exists: a first row now, then one per interval. */
  start(): void {
    if (this.started || this.closed) return
    this.started = true
    // Not awaited: a database that hangs right now must not hold the first batch (the guard keeps it to one write).
    void this.writeOnce()
    this.timer = setInterval(() => void this.writeOnce(), this.intervalMs).unref()
  }

  /**
   * Stops the timer and writes the final row, waiting `limitMs` at most for it
   * (none when 0 or less: the caller passes 0 when the table may not exist).
   * A `start()` still to come (the first migration finishing late) is void.
   */
  async close(limitMs: number): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    if (limitMs <= 0) return
    // After a periodic write still in flight, or its late upsert would overwrite the final row.
    const periodic = this.writing ?? Promise.resolve()
    await Deadline.in(limitMs).settles(periodic.then(() => this.write(true)))
  }

  private writeOnce(): Promise<void> {
    this.writing ??= this.write(false).finally(() => (this.writing = undefined))
    return this.writing
  }

  private async write(final: boolean): Promise<void> {
    try {
      await upsertStatsRow(this.sql, this.names, { writerId: this.writerId, startedAt: this.startedAt, final, counters: this.readCounters() })
    } catch (error) {
      if (!this.closed) this.onProblem(`cannot write the stats row: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}
