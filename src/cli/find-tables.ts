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

export interface FoundTables {
  /** The first few, those in the schema asked for first. */
  tables: FoundTable[]
  /** How many there are in all. */
  total: number
}

const LISTED = 8

/** The pino-sluice tables of one kind in the whole database (any schema, `schema` first), partitions excluded. */
export async function findTables(sql: postgres.Sql, kind: TableKind, schema: string): Promise<FoundTables> {
  const [first, second] = MARKER_COLUMNS[kind]
  const rows = await sql<{ schema: string; name: string; total: number }[]>`
    select n.nspname as schema, c.relname as name, (count(*) over ())::int as total
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and c.relname like ${`%\\_${kind}`}
      and n.nspname not in ('pg_catalog', 'information_schema')
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ${first} and not a.attisdropped)
      and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ${second} and not a.attisdropped)
    order by n.nspname = ${schema} desc, 1, 2 limit ${LISTED}`
  return {
    tables: rows.map((r) => ({ schema: r.schema, logsTable: r.name.slice(0, -`_${kind}`.length) })),
    total: rows[0]?.total ?? 0,
  }
}

/**
 * The sentence after "no <schema>.<table>_<kind> table": which tables of that
 * kind exist and the flags that pick one, or that there are none yet.
 */
export function tablesHint(found: FoundTables, kind: TableKind): string {
  if (found.total === 0) {
    return kind === 'stats'
      ? 'no pino-sluice stats table in this database yet; has a writer with postgres.statsIntervalMs > 0 started?'
      : 'no pino-sluice spans table in this database yet; has an app written spans here?'
  }
  const list = found.tables.map((t) => `${t.schema}.${t.logsTable}_${kind} (--table ${t.logsTable}${t.schema === 'public' ? '' : ` --schema ${t.schema}`})`)
  const more = found.total > found.tables.length ? ` and ${found.total - found.tables.length} more` : ''
  return `${kind} tables here: ${list.join(', ')}${more}; pass --table with the logs table name`
}
