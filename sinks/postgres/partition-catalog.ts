import type { Sql } from './connect.js'
import type { PartitionPeriod } from './partition-options.js'
import { PERIOD_COMMENT_PREFIX } from './partitioned-tables.js'

export interface PartitionInfo {
  readonly name: string
  /** Bounds of a range partition; null for the DEFAULT partition (or MINVALUE/MAXVALUE bounds). */
  readonly from: Date | null
  readonly to: Date | null
  readonly isDefault: boolean
}

export interface ParentInfo {
  /** False for a plain (unpartitioned) table or a missing one. */
  readonly partitioned: boolean
  /** The period the table was created with (its comment), undefined when unknown. */
  readonly period: PartitionPeriod | undefined
}

export async function describeParent(sql: Sql, schema: string, parent: string): Promise<ParentInfo> {
  const [row] = await sql<{ relkind: string; comment: string | null }[]>`
    select c.relkind, obj_description(c.oid, 'pg_class') as comment
    from pg_class c where c.oid = to_regclass(${`"${schema}"."${parent}"`})`
  if (!row || row.relkind !== 'p') return { partitioned: false, period: undefined }
  const named = row.comment?.startsWith(PERIOD_COMMENT_PREFIX) ? row.comment.slice(PERIOD_COMMENT_PREFIX.length) : undefined
  return { partitioned: true, period: named === 'day' || named === 'hour' ? named : undefined }
}

/**
 * The partitions of `parent` with their bounds. Bounds are read from
 * pg_get_expr's text and cast back in SQL: the text carries its UTC offset,
 * so the session time zone does not matter.
 */
export async function listPartitions(sql: Sql, schema: string, parent: string): Promise<PartitionInfo[]> {
  const rows = await sql<{ name: string; bound: string; from: Date | null; to: Date | null }[]>`
    select c.relname as name, b.bound,
      (regexp_match(b.bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz as "from",
      (regexp_match(b.bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz as "to"
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    cross join lateral (select pg_get_expr(c.relpartbound, c.oid) as bound) b
    where i.inhparent = to_regclass(${`"${schema}"."${parent}"`})
    order by 3 nulls first`
  return rows.map((r) => ({ name: r.name, from: r.from, to: r.to, isDefault: r.bound === 'DEFAULT' }))
}

/** Takes turns with other writers on one table's partitions; released at the end of the transaction. */
export function partitionLockKey(schema: string, parent: string): string {
  return `pino-sluice:partitions:${schema}.${parent}`
}
