import type { Sql } from './connect.js'
import type { TableNames } from './table-names.js'

/**
 * A schema change owned by one component (logs, spans, stats, …). Versions
 * count per component, so components evolve without coordinating numbers.
 * `up` runs inside the migration transaction, under the advisory lock.
 */
export interface Migration {
  readonly component: string
  readonly version: number
  readonly description: string
  up(tx: Sql, names: TableNames): Promise<unknown>
}

/** One lock for every pino-sluice schema change in the database: concurrent writers starting together take turns. */
const MIGRATION_LOCK_KEY = 'pino-sluice:migrations'

/** Applies the migrations this database has not seen yet; safe to run from many processes at once. */
export async function migrate(sql: Sql, names: TableNames, migrations: readonly Migration[]): Promise<number> {
  let applied = 0
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK_KEY}))`
    await tx`create table if not exists ${sql(names.schema)}.${sql(names.migrations)} (
      target text not null,
      component text not null,
      version integer not null,
      description text not null,
      applied_at timestamptz not null default now(),
      primary key (target, component, version)
    )`
    const done = await tx<{ component: string; version: number }[]>`
      select component, version from ${sql(names.schema)}.${sql(names.migrations)} where target = ${names.logs}`
    const seen = new Set(done.map((row) => `${row.component}@${row.version}`))
    const pending = migrations
      .filter((m) => !seen.has(`${m.component}@${m.version}`))
      .sort((a, b) => a.component.localeCompare(b.component) || a.version - b.version)
    for (const migration of pending) {
      await migration.up(tx as unknown as Sql, names)
      await tx`insert into ${sql(names.schema)}.${sql(names.migrations)} (target, component, version, description)
        values (${names.logs}, ${migration.component}, ${migration.version}, ${migration.description})`
      applied++
    }
  })
  return applied
}
