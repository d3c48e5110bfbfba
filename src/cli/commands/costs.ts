import postgres from 'postgres'
import { parseDuration } from '../../../sinks/postgres/partition-options.js'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { formatCost, formatCount } from '../../spans/trace-tree.js'
import { parseCommandArgs, type Command } from '../command.js'
import { DATABASE_ARG_OPTIONS, DATABASE_USAGE, databaseArgs } from '../database-args.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'

const USAGE = `Usage: sluice costs [--by model|day|trace|span] [--since 7d] [options]

Sums model usage from the spans table: calls, tokens and cost per group,
with the calls that had no price counted apart (their cost is unknown, not 0).
Groups: model and day (default), trace, or span name (e.g. a route).

Options:
${DATABASE_USAGE}
  --by <group>       model (model and day), day, trace or span (default: model)
  --since <age>      spans that ended within this age, e.g. 90m, 48h, 7d (default: 7d)
  --limit <n>        at most this many groups, the costliest first (default: 50)
  --json             print the rows as JSON (token counts as decimal strings)
`

const GROUPS = {
  model: { key: "m.key || '  ' || to_char(date_trunc('day', s.end_time at time zone 'UTC'), 'YYYY-MM-DD')", header: 'model  day (UTC)' },
  day: { key: "to_char(date_trunc('day', s.end_time at time zone 'UTC'), 'YYYY-MM-DD')", header: 'day (UTC)' },
  trace: { key: 's.trace_id', header: 'trace' },
  span: { key: 's.name', header: 'span name' },
} as const

interface CostRow {
  group: string
  calls: number
  unpriced: number
  input: string
  output: string
  cache_read: string
  cache_creation: string
  cost_usd: string | null
}

export const costsCommand: Command = {
  name: 'costs',
  summary: 'Sum model usage and cost by model and day, trace or span name',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('costs', USAGE, {
      args: [...argv],
      options: { ...DATABASE_ARG_OPTIONS, by: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    })
    if (!parsed) return 2
    const { values } = parsed
    const database = databaseArgs(values)
    const by = values.by ?? 'model'
    const sinceMs = parseDuration(values.since ?? '7d')
    const limit = Number(values.limit ?? '50')
    const problem =
      typeof database === 'string' ? database
      : !Object.hasOwn(GROUPS, by) ? `--by must be model, day, trace or span, got "${by.slice(0, 40)}"`
      : sinceMs === undefined ? `--since must be a number and a unit m, h or d (e.g. 7d), got "${String(values.since).slice(0, 40)}"`
      : !Number.isInteger(limit) || limit < 1 || limit > 100_000 ? `--limit must be an integer between 1 and 100000, got "${String(values.limit).slice(0, 40)}"`
      : undefined
    if (problem || typeof database === 'string') {
      process.stderr.write(`sluice costs: ${problem}\n\n${USAGE}`)
      return 2
    }
    const names = tableNames(database.schema, database.table)
    const group = GROUPS[by as keyof typeof GROUPS]
    const sql = postgres(database.url, { onnotice: () => {}, max: 1, connection: { application_name: 'sluice costs' } })
    try {
      // One row per span and model (model_usage), so a span calling two models counts in both.
      const rows = await sql<CostRow[]>`
        select ${sql.unsafe(group.key)} as group, count(*)::int as calls,
          count(*) filter (where m.value->>'cost_usd' is null)::int as unpriced,
          sum((m.value->>'input_tokens')::numeric)::text as input, sum((m.value->>'output_tokens')::numeric)::text as output,
          sum((m.value->>'cache_read_tokens')::numeric)::text as cache_read, sum((m.value->>'cache_creation_tokens')::numeric)::text as cache_creation,
          sum((m.value->>'cost_usd')::numeric)::text as cost_usd
        from ${sql(names.schema)}.${sql(names.spans)} s, jsonb_each(s.model_usage) m
        where s.end_time > now() - ${`${Math.round((sinceMs as number) / 1000)} seconds`}::interval
        group by 1 order by sum((m.value->>'cost_usd')::numeric) desc nulls last, 1 limit ${limit}`
      if (values.json) {
        process.stdout.write(`${jsonTerminalSafe(JSON.stringify(rows.map((r) => ({ ...r, cost_usd: r.cost_usd === null ? null : Number(r.cost_usd) })), null, 2))}\n`)
        return 0
      }
      if (rows.length === 0) {
        process.stdout.write(`no model usage in ${names.schema}.${names.spans} within ${values.since ?? '7d'}\n`)
        return 0
      }
      const lines = rows.map((r) => {
        const unpriced = r.unpriced > 0 ? `  (${r.unpriced} unpriced)` : ''
        const cost = r.cost_usd === null ? 'no price' : formatCost(Number(r.cost_usd))
        return `${terminalSafe(r.group)}  ${r.calls} call${r.calls === 1 ? '' : 's'}  in ${formatCount(BigInt(r.input))} out ${formatCount(BigInt(r.output))} cache read ${formatCount(BigInt(r.cache_read))} write ${formatCount(BigInt(r.cache_creation))}  ${cost}${unpriced}`
      })
      process.stdout.write(`# ${group.header}  ·  calls  ·  tokens  ·  cost\n${lines.join('\n')}\n`)
      return 0
    } catch (error) {
      process.stderr.write(`sluice costs: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`)
      return 1
    } finally {
      await sql.end({ timeout: 1 })
    }
  },
}
