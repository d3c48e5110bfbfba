import type { Sql } from './connect.js'
import { describeParent, listPartitions, partitionLockKey } from './partition-catalog.js'
import type { PartitionPeriod } from './partition-options.js'
import { defaultPartitionName, missingPeriods, partitionName, PERIOD_MS, type PartitionWindow } from './partition-periods.js'

const CREATE_LOCK_TIMEOUT = '2s'

/** Spans of more periods than this (a hand-made yearly partition in an hourly table) are not expanded into the cache. */
const MAX_CACHED_PERIODS_PER_PARTITION = 10_000

/**
 * Keeps the time partitions of one table ahead of the records: the current
 * and next period on a timer, and any period a batch needs (within the
 * window) before the batch is inserted. Records outside the window, or whose
 * partition could not be created, land in the DEFAULT partition; a batch
 * never fails for a missing partition.
 *
 * Creation runs under a per-table advisory lock, one transaction per
 * partition, with `create table if not exists`, so writers starting together
 * create each partition once and never fight.
 */
export class PartitionKeeper {
  /** Period starts (epoch ms) known to have a partition. */
  private readonly known = new Set<number>()
  private period: PartitionPeriod | undefined
  private loaded = false

  constructor(
    private readonly sql: Sql,
    private readonly schema: string,
    readonly parent: string,
    /** The partition key column: `time` for logs, `start_time` for spans. */
    private readonly column: string,
    private readonly pastMs: number,
  ) {}

  /** The table's period, undefined for a plain table (nothing to keep). */
  async load(): Promise<PartitionPeriod | undefined> {
    const parent = await describeParent(this.sql, this.schema, this.parent)
    // A partitioned table without our comment was made by hand: assume days, the common choice.
    this.period = parent.partitioned ? (parent.period ?? 'day') : undefined
    this.known.clear()
    if (this.period) await this.remember(this.period)
    this.loaded = true
    return this.period
  }

  /**
   * Creates the partitions these record times need (within the window); returns how many
   * periods were missing here (made by us, or meanwhile by another writer). Cheap when they
   * exist: a Set lookup per time.
   */
  async ensure(times: Iterable<number>, now = Date.now()): Promise<number> {
    if (!this.loaded) await this.load()
    const period = this.period
    if (!period) return 0
    const window: PartitionWindow = { period, pastMs: this.pastMs, futureMs: PERIOD_MS.day }
    const missing = missingPeriods(times, this.known, window, now)
    for (const start of missing) await this.create(start, period)
    return missing.length
  }

  /** The current and the next period, so the hot path rarely has to create one. */
  ensureAhead(now = Date.now()): Promise<number> {
    const width = this.period ? PERIOD_MS[this.period] : PERIOD_MS.hour
    return this.ensure([now, now + width], now)
  }

  private async remember(period: PartitionPeriod): Promise<void> {
    const width = PERIOD_MS[period]
    for (const partition of await listPartitions(this.sql, this.schema, this.parent)) {
      if (!partition.from || !partition.to) continue
      const from = partition.from.getTime()
      const to = partition.to.getTime()
      if ((to - from) / width > MAX_CACHED_PERIODS_PER_PARTITION) continue
      for (let start = Math.ceil(from / width) * width; start + width <= to; start += width) this.known.add(start)
    }
  }

  /**
   * Postgres refuses to create a partition while the DEFAULT partition holds
   * rows of its range (records that arrived with skewed clocks before the
   * period entered the window). Those rows move into the new partition in
   * the same transaction; readers see them in one place or the other, never
   * both and never neither.
   */
  private async create(start: number, period: PartitionPeriod): Promise<void> {
    const { sql, schema, parent, column } = this
    const from = new Date(start)
    const to = new Date(start + PERIOD_MS[period])
    const name = partitionName(parent, start, period)
    const fallback = defaultPartitionName(parent)
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${partitionLockKey(schema, parent)}))`
      // Creating a partition needs an exclusive lock on the parent. Queued behind a long
      // query, it would stall every writer's inserts queued behind it: give up instead,
      // the records go to DEFAULT and a later batch or tick tries again.
      await tx`select set_config('lock_timeout', ${CREATE_LOCK_TIMEOUT}, true)`
      // Another writer may have made it while we waited for the lock.
      const covered = (await listPartitions(tx as unknown as Sql, schema, parent)).some(
        (p) => p.from !== null && p.to !== null && p.from.getTime() <= start && start < p.to.getTime(),
      )
      if (!covered) {
        const defaultIsThere = (await tx`select 1 from pg_class where oid = to_regclass(${`"${schema}"."${fallback}"`})`).length > 0
        const moving = defaultIsThere
          ? (await tx`select 1 from ${tx(schema)}.${tx(fallback)} where ${tx(column)} >= ${from} and ${tx(column)} < ${to} limit 1`).length > 0
          : false
        if (moving) {
          await tx`create temp table pino_sluice_moving on commit drop as
            select * from ${tx(schema)}.${tx(fallback)} where ${tx(column)} >= ${from} and ${tx(column)} < ${to}`
          await tx`delete from ${tx(schema)}.${tx(fallback)} where ${tx(column)} >= ${from} and ${tx(column)} < ${to}`
        }
        // DDL takes no bind parameters; every part here is a validated identifier or an ISO timestamp we made.
        await tx.unsafe(`create table if not exists "${schema}"."${name}" partition of "${schema}"."${parent}"
          for values from ('${from.toISOString()}') to ('${to.toISOString()}')`)
        if (moving) {
          await tx`insert into ${tx(schema)}.${tx(parent)} overriding system value select * from pino_sluice_moving`
          await tx`drop table pino_sluice_moving`
        }
      }
    })
    this.known.add(start)
  }
}
