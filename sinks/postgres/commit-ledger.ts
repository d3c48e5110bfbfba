import type { Sql } from './connect.js'
import type { Migration } from './migrations.js'
import type { TableNames } from './table-names.js'

/**
 * The commit ledger `<logs>_ledger`: one row per committed batch transaction,
 * `(writer_id, first_seq, last_seq, records)`, inserted inside that
 * transaction, so it exists iff the batch's rows do. A retry after an
 * uncertain commit asks it which of its seqs are written already.
 *
 * It replaces the unique index `<logs>_writer_seq (writer_id, seq, time)`,
 * which cost ~1.2 µs of server CPU per row (issue 14): one ledger row per
 * transaction instead of one index entry per row. Its primary key keeps the
 * index's other service: a retry whose first attempt is still committing
 * waits on that attempt's ledger row and then fails 23505 (same writer, same
 * first seq), instead of writing the rows twice.
 */

/** Ledger rows older than this are pruned: far beyond any retry window (`postgres.retry.budgetMs` is at most 1 h). */
export const LEDGER_KEEP_MS = 24 * 60 * 60_000

/** A committed transaction's seqs, both ends included. */
export interface SeqRange {
  readonly first: number
  readonly last: number
}

export const commitLedgerMigration: Migration = {
  component: 'logs',
  version: 2,
  description: 'commit ledger (one row per batch transaction) replaces the unique (writer_id, seq, time) index as the retry check',
  async up(tx, { schema, logs, ledger }) {
    await tx`create table if not exists ${tx(schema)}.${tx(ledger)} (
      writer_id text not null,
      first_seq bigint not null,
      last_seq bigint not null,
      records integer not null,
      committed_at timestamptz not null default now(),
      primary key (writer_id, first_seq)
    )`
    // For pruning by age across all writers without reading the whole table.
    await tx`create index if not exists ${tx(`${ledger}_at`)} on ${tx(schema)}.${tx(ledger)} (committed_at)`
    // On a partitioned parent this drops the partitions' copies too.
    await tx`drop index if exists ${tx(schema)}.${tx(`${logs}_writer_seq`)}`
  },
}

/** Records one batch transaction; run it inside that transaction. */
export async function recordCommit(tx: Sql, { schema, ledger }: TableNames, writerId: string, { first, last }: SeqRange, records: number): Promise<void> {
  await tx`insert into ${tx(schema)}.${tx(ledger)} (writer_id, first_seq, last_seq, records)
    values (${writerId}, ${first}, ${last}, ${records})`
}

/**
 * This writer's committed ranges that overlap `[low, high]`, by `first_seq`.
 * A writer's ranges are disjoint, so besides those starting inside
 * `[low, high]` only the last one starting before `low` can reach into it:
 * two primary-key range reads, however many rows the writer has.
 */
export async function committedRanges(sql: Sql, { schema, ledger }: TableNames, writerId: string, { first: low, last: high }: SeqRange): Promise<SeqRange[]> {
  const table = sql`${sql(schema)}.${sql(ledger)}`
  const rows = await sql<{ first_seq: string; last_seq: string }[]>`
    (select first_seq, last_seq from ${table} where writer_id = ${writerId} and first_seq < ${low} order by first_seq desc limit 1)
    union all
    (select first_seq, last_seq from ${table} where writer_id = ${writerId} and first_seq between ${low} and ${high})`
  return rows
    .map((row) => ({ first: Number(row.first_seq), last: Number(row.last_seq) }))
    .filter((range) => range.last >= low)
    .sort((a, b) => a.first - b.first)
}

/** Whether `seq` lies in one of `ranges` (sorted by `first`, disjoint). */
export function inRanges(seq: number, ranges: readonly SeqRange[]): boolean {
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const range = ranges[mid] as SeqRange
    if (seq < range.first) hi = mid - 1
    else if (seq > range.last) lo = mid + 1
    else return true
  }
  return false
}

/** Deletes ledger rows of every writer (crashed ones leave theirs) older than `olderThanMs`. */
export async function pruneLedger(sql: Sql, { schema, ledger }: TableNames, olderThanMs = LEDGER_KEEP_MS): Promise<void> {
  await sql`delete from ${sql(schema)}.${sql(ledger)} where committed_at < now() - ${`${Math.round(olderThanMs / 1000)} seconds`}::interval`
}
