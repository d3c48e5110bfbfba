import { commitLedgerMigration } from './commit-ledger.js'
import type { Migration } from './migrations.js'

/** Column definitions of the logs table, shared by the plain (v1) and partitioned (v0) creations. */
export const LOG_COLUMNS_SQL = `
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
  data jsonb not null default '{}'::jsonb`

export const logsMigrations: readonly Migration[] = [
  {
    component: 'logs',
    version: 1,
    description: 'logs table with time index and per-writer idempotency key',
    async up(tx, { schema, logs }) {
      await tx`create table if not exists ${tx(schema)}.${tx(logs)} (${tx.unsafe(LOG_COLUMNS_SQL)})`
      // (writer_id, seq) identifies a record across retries; time is part of the
      // key so the index stays valid once the table is partitioned by time.
      // Version 2 (commit-ledger.ts) drops it: the commit ledger does its job for less.
      await tx`create unique index if not exists ${tx(`${logs}_writer_seq`)} on ${tx(schema)}.${tx(logs)} (writer_id, seq, time)`
      await tx`create index if not exists ${tx(`${logs}_time`)} on ${tx(schema)}.${tx(logs)} using brin (time)`
      await tx`create index if not exists ${tx(`${logs}_trace`)} on ${tx(schema)}.${tx(logs)} (trace_id) where trace_id is not null`
    },
  },
  commitLedgerMigration,
]
