import type postgres from 'postgres'

/** The tables pino-sluice makes next to a logs table `<name>`: `<name>_spans` and `<name>_stats`. */
export type TableKind = 'spans' | 'stats'

/** Columns that tell a pino-sluice table of that kind from someone else's table with the same suffix. */
const MARKER_COLUMNS: Readonly<Record<TableKind, readonly [string, string]>> = {
  spans: ['trace_id', 'span_id'],
  stats: ['writer_id', 'counters'],
}

export interface FoundTable {
  schema: string
  /** The logs table name to pass as --table. */
  logsTable: string
}

/** The pino-sluice tables of one kind in the whole database (any schema), partitions excluded. */
export async function findTables(sql: postgres.Sql, kind: TableKind): Promise<FoundTable[]> {
  const [first, second] = MARKER_COLUMNS[kind]
  const rows = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and c.relname like ${`%\\_${kind}`}
      and n.nspname not in ('pg_catalog', 'information_schema')
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ${first} and not a.attisdropped)
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ${second} and not a.attisdropped)
    order by 1, 2 limit 20`
  return rows.map((r) => ({ schema: r.schema, logsTable: r.name.slice(0, -`_${kind}`.length) }))
}

/**
 * The sentence after "no <schema>.<table>_<kind> table": which tables of that
 * kind exist and the flags that pick one, or that there are none yet.
 */
export function tablesHint(found: readonly FoundTable[], kind: TableKind): string {
  if (found.length === 0) {
    return kind === 'stats'
      ? 'no pino-sluice stats table in this database yet; has a writer with postgres.statsIntervalMs > 0 started?'
      : 'no pino-sluice spans table in this database yet; has an app written spans here?'
  }
  const list = found.map((t) => `${t.schema}.${t.logsTable}_${kind} (--table ${t.logsTable}${t.schema === 'public' ? '' : ` --schema ${t.schema}`})`)
  return `${kind} tables here: ${list.join(', ')}; pass --table with the logs table name`
}
