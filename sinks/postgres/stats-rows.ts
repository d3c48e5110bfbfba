import { hostname } from 'node:os'
import type { Sql } from './connect.js'
import type { Migration } from './migrations.js'
import type { TableNames } from './table-names.js'

/**
 * `<table>_stats`: one row per writer (process), upserted every
 * `postgres.statsIntervalMs` and once more, `final`, on close. Every process
 * writing into the table shows up here, so `sluice tail --db` can sum the
 * dropped/failed counters of all of them. Keyed by writer_id, which is also a
 * fine Citus distribution column.
 */
export const statsMigrations: readonly Migration[] = [
  {
    component: 'stats',
    version: 1,
    description: 'per-writer counters table',
    async up(tx, { schema, stats }) {
      await tx`create table if not exists ${tx(schema)}.${tx(stats)} (
        writer_id text primary key,
        hostname text not null,
        pid integer not null,
        started_at timestamptz not null,
        updated_at timestamptz not null,
        final boolean not null default false,
        counters jsonb not null
      )`
    },
  },
]

export async function upsertStatsRow(sql: Sql, names: TableNames, row: { writerId: string; startedAt: Date; final: boolean; counters: Record<string, number> }): Promise<void> {
  const { schema, stats } = names
  await sql`
    insert into ${sql(schema)}.${sql(stats)} (writer_id, hostname, pid, started_at, updated_at, final, counters)
    values (${row.writerId}, ${hostname()}, ${process.pid}, ${row.startedAt}, now(), ${row.final}, ${JSON.stringify(row.counters)}::text::jsonb)
    on conflict (writer_id) do update set updated_at = excluded.updated_at, final = excluded.final, counters = excluded.counters`
}

export async function deleteStaleStatsRows(sql: Sql, { schema, stats }: TableNames, olderThanMs: number): Promise<void> {
  await sql`delete from ${sql(schema)}.${sql(stats)} where updated_at < now() - ${`${Math.round(olderThanMs / 1000)} seconds`}::interval`
}
