import type { Sql } from './connect.js'
import { LOG_COLUMNS_SQL } from './logs-schema.js'
import type { Migration } from './migrations.js'
import type { PartitionPeriod } from './partition-options.js'
import { defaultPartitionName } from './partition-periods.js'
import { SPAN_COLUMNS_SQL } from './spans-schema.js'

/** Written on the parent so every writer uses the table's period, whatever its own option says. */
export const PERIOD_COMMENT_PREFIX = 'pino-sluice: partitioned by '

async function tableExists(tx: Sql, schema: string, table: string): Promise<boolean> {
  const [row] = await tx<{ found: boolean }[]>`select to_regclass(${`${schema}.${table}`}) is not null as found`
  return row?.found === true
}

/**
 * Creates the parent partitioned by `column` plus its DEFAULT partition, but
 * only when the table does not exist yet: version 0 runs before version 1,
 * whose `create table if not exists` then finds the parent and only adds the
 * indexes (Postgres puts them on every partition). An existing plain table
 * is left as it is; docs/scale.md ("Time partitions") shows the manual conversion.
 */
async function createPartitionedParent(tx: Sql, schema: string, table: string, columns: string, column: string, period: PartitionPeriod): Promise<void> {
  if (await tableExists(tx, schema, table)) return
  await tx.unsafe(`create table "${schema}"."${table}" (${columns}) partition by range (${column})`)
  await tx.unsafe(`create table "${schema}"."${defaultPartitionName(table)}" partition of "${schema}"."${table}" default`)
  await tx.unsafe(`comment on table "${schema}"."${table}" is '${PERIOD_COMMENT_PREFIX}${period}'`)
}

/** Version 0 of logs and spans: partitioned parents on a fresh database (only when `postgres.partition` is on). */
export function partitionedTableMigrations(period: PartitionPeriod): Migration[] {
  return [
    {
      component: 'logs',
      version: 0,
      description: `logs table range-partitioned by time (${period}) when created fresh; an existing plain table is kept`,
      up: (tx, { schema, logs }) => createPartitionedParent(tx, schema, logs, LOG_COLUMNS_SQL, 'time', period),
    },
    {
      component: 'spans',
      version: 0,
      description: `spans table range-partitioned by start_time (${period}) when created fresh; an existing plain table is kept`,
      up: (tx, { schema, spans }) => createPartitionedParent(tx, schema, spans, SPAN_COLUMNS_SQL, 'start_time', period),
    },
  ]
}

/**
 * Citus distributes spans by trace_id, and a distributed table's unique
 * indexes must contain the distribution column. Appending trace_id keeps
 * (writer_id, seq) leading, so the retry check still uses the index; the key
 * stays unique because (writer_id, seq) already is.
 */
export const spansCitusMigration: Migration = {
  component: 'spans',
  version: 2,
  description: 'idempotency key includes trace_id (Citus distribution column)',
  async up(tx, { schema, spans }) {
    await tx`drop index if exists ${tx(schema)}.${tx(`${spans}_wseq`)}`
    await tx`create unique index ${tx(`${spans}_wseq`)} on ${tx(schema)}.${tx(spans)} (writer_id, seq, start_time, trace_id)`
  },
}
