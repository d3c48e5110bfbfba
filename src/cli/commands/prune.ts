import postgres from 'postgres'
import type { Sql } from '../../../sinks/postgres/connect.js'
import { parseDuration } from '../../../sinks/postgres/partition-options.js'
import { applyRetention, planRetention, type RetentionPlan } from '../../../sinks/postgres/retention.js'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { parseCommandArgs, type Command } from '../command.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'
import { DATABASE_ARG_OPTIONS, DATABASE_USAGE, databaseArgs } from '../database-args.js'

const USAGE = `Usage: sluice prune --retention <14d|48h|90m> [options]

Drops the time partitions of the logs and spans tables whose every row is
older than the retention (the partition's upper bound is at or before now -
retention). Whole partitions only, never row by row; the partition that
straddles the cutoff is kept. Rows with stray timestamps in the DEFAULT
partition older than the cutoff are deleted with one statement. Writers with
postgres.retention do the same on their own every hour (10 min for hourly
partitions); this command is for a one-off look or a cron job.

Options:
  --retention <d>    keep this much: a number and m, h or d (required)
  --dry-run          only show what would go
${DATABASE_USAGE}
  --json             one JSON object instead of text
`


interface Sizes {
  [name: string]: { rows: number; bytes: number }
}

/** Estimates from the catalog: counting rows of big partitions would be the slow thing this command avoids. */
async function partitionSizes(sql: Sql, schema: string, names: readonly string[]): Promise<Sizes> {
  if (names.length === 0) return {}
  const rows = await sql<{ name: string; rows: number; bytes: string }[]>`
    select c.relname as name, greatest(c.reltuples, 0)::float8 as rows, pg_total_relation_size(c.oid)::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname in ${sql(names as string[])}`
  return Object.fromEntries(rows.map((r) => [r.name, { rows: Number(r.rows), bytes: Number(r.bytes) }]))
}

function day(date: Date | null): string {
  return date ? date.toISOString().replace('.000Z', 'Z') : '-'
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function planText(plan: RetentionPlan, sizes: Sizes, dryRun: boolean): string {
  const verb = dryRun ? 'would drop' : 'drop'
  const lines = [`${plan.schema}.${plan.table}: cutoff ${day(plan.cutoff)}`]
  for (const p of plan.expired) {
    const size = sizes[p.name]
    lines.push(`  ${verb} ${p.name}  [${day(p.from)}, ${day(p.to)})  ~${size?.rows ?? 0} rows  ${mb(size?.bytes ?? 0)}`)
  }
  if (plan.expired.length === 0) lines.push('  no partition is entirely older than the cutoff')
  const first = plan.kept[0]
  const last = plan.kept[plan.kept.length - 1]
  lines.push(`  keep ${plan.kept.length} partition(s)${first && last ? ` from ${day(first.from)} to ${day(last.to)}` : ''}`)
  if (plan.defaultPartition !== undefined) {
    lines.push(`  ${plan.defaultPartition} (DEFAULT, stray timestamps): ${plan.defaultExpiredRows} row(s) older than the cutoff${plan.defaultExpiredRows > 0 ? (dryRun ? ' would be deleted' : ' deleted') : ''}`)
  }
  // Partition names come from the catalog, where anyone with CREATE on the schema can add one.
  return `${lines.map(terminalSafe).join('\n')}\n`
}

export async function runPrune(options: { url: string; schema: string; table: string; retentionMs: number; dryRun: boolean; json: boolean }, write: (text: string) => void): Promise<number> {
  const sql = postgres(options.url, { onnotice: () => {}, max: 1, connection: { application_name: 'sluice prune' } }) as unknown as Sql
  try {
    const names = tableNames(options.schema, options.table)
    const report: unknown[] = []
    for (const [table, column] of [[names.logs, 'time'], [names.spans, 'start_time']] as const) {
      const plan = await planRetention(sql, options.schema, table, column, options.retentionMs)
      if (!plan) {
        if (!options.json) write(`${options.schema}.${table}: not a partitioned table (missing, or created with postgres.partition false); nothing to prune\n`)
        report.push({ table, partitioned: false })
        continue
      }
      const sizes = await partitionSizes(sql, options.schema, plan.expired.map((p) => p.name))
      if (!options.json) write(planText(plan, sizes, options.dryRun))
      const result = options.dryRun ? undefined : await applyRetention(sql, plan, 'wait')
      report.push({
        table,
        partitioned: true,
        cutoff: plan.cutoff.toISOString(),
        expired: plan.expired.map((p) => ({ name: p.name, from: p.from?.toISOString() ?? null, to: p.to?.toISOString() ?? null, ...sizes[p.name] })),
        kept: plan.kept.length,
        defaultPartition: plan.defaultPartition ?? null,
        defaultExpiredRows: plan.defaultExpiredRows,
        dropped: result?.dropped ?? [],
        defaultRowsDeleted: result?.defaultRowsDeleted ?? 0,
      })
    }
    if (options.json) write(`${jsonTerminalSafe(JSON.stringify({ dryRun: options.dryRun, retentionMs: options.retentionMs, tables: report }))}\n`)
    else if (options.dryRun) write('dry run: nothing was dropped\n')
    return 0
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Drop expired time partitions (--dry-run shows what would go)',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('prune', USAGE, {
      args: [...argv],
      options: {
        ...DATABASE_ARG_OPTIONS,
        retention: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    })
    if (!parsed) return 2
    const { values } = parsed
    const database = databaseArgs(values)
    const retentionMs = values.retention === undefined ? undefined : parseDuration(values.retention)
    const problem =
      values.retention === undefined ? 'give --retention, e.g. --retention 14d'
      : retentionMs === undefined ? `--retention must be a number followed by m, h or d (e.g. 14d, 48h), got "${values.retention.slice(0, 40)}"`
      : typeof database === 'string' ? database
      : undefined
    if (problem || typeof database === 'string' || retentionMs === undefined) {
      process.stderr.write(`sluice prune: ${terminalSafe(String(problem))}\n\n${USAGE}`)
      return 2
    }
    return runPrune({ ...database, retentionMs, dryRun: values['dry-run'] === true, json: values.json === true }, (text) => void process.stdout.write(text))
  },
}
