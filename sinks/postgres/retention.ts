import type { Sql } from './connect.js'
import { describeParent, listPartitions, partitionLockKey, type PartitionInfo } from './partition-catalog.js'

/** What retention would do to one table: whole partitions to drop, and DEFAULT rows past the cutoff. */
export interface RetentionPlan {
  readonly schema: string
  readonly table: string
  readonly column: string
  readonly cutoff: Date
  /** Partitions whose upper bound is at or before the cutoff: every row in them is expired. */
  readonly expired: readonly PartitionInfo[]
  /** Partitions kept (the one straddling the cutoff and newer). */
  readonly kept: readonly PartitionInfo[]
  readonly defaultPartition: string | undefined
  /** Rows in the DEFAULT partition older than the cutoff (stray timestamps; usually 0). */
  readonly defaultExpiredRows: number
}

export interface RetentionResult {
  readonly dropped: readonly string[]
  readonly defaultRowsDeleted: number
  /** False when another writer held the lock: it is doing the same work. */
  readonly locked: boolean
}

/** Undefined for a plain (unpartitioned) or missing table: retention only ever drops whole partitions. */
export async function planRetention(sql: Sql, schema: string, table: string, column: string, retentionMs: number, now = Date.now()): Promise<RetentionPlan | undefined> {
  if (!(await describeParent(sql, schema, table)).partitioned) return undefined
  const cutoff = new Date(now - retentionMs)
  const partitions = await listPartitions(sql, schema, table)
  const expired = partitions.filter((p) => p.to !== null && p.to.getTime() <= cutoff.getTime())
  const kept = partitions.filter((p) => !p.isDefault && !expired.includes(p))
  const fallback = partitions.find((p) => p.isDefault)?.name
  let defaultExpiredRows = 0
  if (fallback !== undefined) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(schema)}.${sql(fallback)} where ${sql(column)} < ${cutoff}`
    defaultExpiredRows = row?.n ?? 0
  }
  return { schema, table, column, cutoff, expired, kept, defaultPartition: fallback, defaultExpiredRows }
}

/**
 * Drops each expired partition in its own short transaction under the
 * table's partition lock (`try`: a writer skips the round when another
 * writer holds it; `wait`: the CLI queues). Dropping a partition is a
 * catalog change, not a row-by-row delete. The DEFAULT partition only holds
 * stray timestamps, so its expired rows go with one DELETE.
 */
export async function applyRetention(sql: Sql, plan: RetentionPlan, lock: 'try' | 'wait'): Promise<RetentionResult> {
  const key = partitionLockKey(plan.schema, plan.table)
  const dropped: string[] = []
  const takeLock = async (tx: Sql): Promise<boolean> => {
    if (lock === 'wait') {
      await tx`select pg_advisory_xact_lock(hashtext(${key}))`
    } else {
      const [row] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(hashtext(${key})) as ok`
      if (row?.ok !== true) return false
    }
    // DROP waits for an exclusive lock on the parent, and inserts queue behind a waiting
    // DROP: behind a long query, give up (the next round retries) rather than stall writers.
    await tx`select set_config('lock_timeout', ${lock === 'try' ? '2s' : '30s'}, true)`
    return true
  }
  for (const partition of plan.expired) {
    const got = await sql.begin(async (tx) => {
      if (!(await takeLock(tx as unknown as Sql))) return false
      await tx`drop table if exists ${tx(plan.schema)}.${tx(partition.name)}`
      return true
    })
    if (!got) return { dropped, defaultRowsDeleted: 0, locked: false }
    dropped.push(partition.name)
  }
  let defaultRowsDeleted = 0
  const fallback = plan.defaultPartition
  if (fallback !== undefined && plan.defaultExpiredRows > 0) {
    const got = await sql.begin(async (tx) => {
      if (!(await takeLock(tx as unknown as Sql))) return false
      const result = await tx`delete from ${tx(plan.schema)}.${tx(fallback)} where ${tx(plan.column)} < ${plan.cutoff}`
      defaultRowsDeleted = result.count
      return true
    })
    if (!got) return { dropped, defaultRowsDeleted: 0, locked: false }
  }
  return { dropped, defaultRowsDeleted, locked: true }
}
