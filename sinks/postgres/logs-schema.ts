import type { Migration } from './migrations.js'

import type { Sql } from './connect.js'
import type { LogRow } from './log-row.js'
import type { TableNames } from './table-names.js'

/**
 * Inserts a batch of rows sent as ONE jsonb parameter and unpacked by
 * `jsonb_to_recordset`: one round trip, one JSON.stringify for the whole batch,
 * nested `data` passed through without a second encoding. (COPY was the first
 * choice, but postgres.js never settles a COPY stream the server rejects, so a
 * bad record would hang its batch instead of being isolated.)
 */
export async function insertLogRows(tx: Sql, { schema, logs }: TableNames, rows: readonly LogRow[]): Promise<void> {
  await tx`
    insert into ${tx(schema)}.${tx(logs)} (time, level, msg, hostname, pid, writer_id, seq, trace_id, span_id, data)
    select to_timestamp(r.t / 1000.0), r.level, r.msg, r.hostname, r.pid, r.writer_id, r.seq, r.trace_id, r.span_id, r.data
    from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as r(
      t double precision, level smallint, msg text, hostname text, pid integer,
      writer_id text, seq bigint, trace_id text, span_id text, data jsonb)`
}

export const logsMigrations: readonly Migration[] = [
  {
    component: 'logs',
    version: 1,
    description: 'logs table with time index and per-writer idempotency key',
    async up(tx, { schema, logs }) {
      await tx`create table if not exists ${tx(schema)}.${tx(logs)} (
        id bigint generated always as identity,
        time timestamptz not null,
        level smallint not null,
        msg text,
        hostname text,
        pid integer,
        writer_id text not null,
        seq bigint not null,
        trace_id text,
        span_id text,
        data jsonb not null default '{}'::jsonb
      )`
      // (writer_id, seq) identifies a record across retries; time is part of the
      // key so the index stays valid once the table is partitioned by time.
      await tx`create unique index if not exists ${tx(`${logs}_writer_seq`)} on ${tx(schema)}.${tx(logs)} (writer_id, seq, time)`
      await tx`create index if not exists ${tx(`${logs}_time`)} on ${tx(schema)}.${tx(logs)} using brin (time)`
      await tx`create index if not exists ${tx(`${logs}_trace`)} on ${tx(schema)}.${tx(logs)} (trace_id) where trace_id is not null`
    },
  },
]
