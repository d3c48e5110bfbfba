import postgres from 'postgres'
import type { Sql } from '../sinks/postgres/connect.js'
import { LOG_COLUMNS_SQL } from '../sinks/postgres/logs-schema.js'
import { migrate } from '../sinks/postgres/migrations.js'
import { postgresMigrations } from '../sinks/postgres/postgres-sink.js'
import { tableNames } from '../sinks/postgres/table-names.js'
import type { ScenarioName, SystemName } from './bench-spec.js'

export type BenchSql = postgres.Sql

export function benchSql(url: string): BenchSql {
  return postgres(url, { max: 2, onnotice: () => {} })
}

/**
 * Creates the run's table before the app starts, so no system pays for DDL
 * inside its measurement: the pino-sluice logs schema (also used by the raw
 * COPY ceiling), or pino-postgres's single jsonb column. For the slow-database
 * scenario a statement trigger sleeps `slowDelayMs` on every INSERT/COPY, like a
 * database under lock contention or far away.
 */
export async function prepareTable(sql: BenchSql, system: SystemName, scenario: ScenarioName, table: string, slowDelayMs: number): Promise<void> {
  if (system === 'pino-postgres') await sql`create table ${sql(table)} (content jsonb)`
  // The ceiling: the logs table's columns, no index, not partitioned.
  else if (system === 'copy-5000') await sql`create table ${sql(table)} (${sql.unsafe(LOG_COLUMNS_SQL)})`
  // The schema pino-sluice creates with its defaults (daily partitions), shared by the raw COPY ceiling.
  else await migrate(sql as unknown as Sql, tableNames('public', table), postgresMigrations({ partition: 'day' }))
  if (scenario === 'slow-db') {
    await sql.unsafe(`create or replace function bench_slow_statement() returns trigger language plpgsql as $$
      begin perform pg_sleep(${Math.round(slowDelayMs) / 1000}); return null; end $$`)
    await sql.unsafe(`create trigger bench_slow before insert on ${table} for each statement execute function bench_slow_statement()`)
  }
}

/** Rows the app's records became (pino-sluice's own drop-notice rows excluded), then the table is dropped to keep the disk small. */
export async function countAndDrop(sql: BenchSql, system: SystemName, table: string): Promise<number> {
  const [row] =
    system.startsWith('pino-sluice') || system.startsWith('create-sluice')
      ? await sql`select count(*)::int as n from ${sql(table)} where not (data ? 'pino_sluice')`
      : await sql`select count(*)::int as n from ${sql(table)}`
  const names = tableNames('public', table)
  await sql`drop table if exists ${sql(names.logs)}, ${sql(names.spans)}, ${sql(names.stats)}, ${sql(names.ledger)} cascade`
  await sql`delete from pino_sluice_migrations where target = ${table}`.catch(() => {})
  return row?.n as number
}

export async function serverVersion(sql: BenchSql): Promise<string> {
  const [row] = await sql`show server_version`
  return String(row?.server_version)
}
