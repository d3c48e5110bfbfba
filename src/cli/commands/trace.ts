import postgres from 'postgres'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { isTraceId } from '../../../sinks/shared/ids.js'
import { loadTrace } from '../../spans/load-trace.js'
import { buildTraceTree, renderTraceTree, traceTreeJson } from '../../spans/trace-tree.js'
import { parseCommandArgs, type Command } from '../command.js'
import { DATABASE_ARG_OPTIONS, DATABASE_USAGE, databaseArgs } from '../database-args.js'
import { findTables, tablesHint } from '../find-tables.js'
import { terminalSafe } from '../terminal-safe.js'

/** Enough for any trace a person reads; a client that picks the trace id must not make the reader load millions of rows. */
export const DEFAULT_TRACE_LIMIT = 10_000

const USAGE = `Usage: sluice trace <trace_id> [options]

Prints the span tree of one trace: each span with its status, duration, tokens
and cost, and the log lines written inside it, in time order. The first line
holds the trace totals (tokens, cache hit ratio, cost).

Options:
${DATABASE_USAGE}
  --limit <n>        at most n spans and n log lines, the earliest first; says how many
                     more there are (default: ${DEFAULT_TRACE_LIMIT}; 0: no limit)
  --json             print the tree as JSON instead (counts beyond 2^53 as strings), with each
                     row's id (rowId, for sluice materialize) and its S3 pointers

Text from the data (span names, messages, errors) is printed with control and
bidi characters escaped (\\u001b); --json gives it exactly.
`

/** The sentence after the tree when the limit left rows out, or '' when nothing was. */
function omittedNote(omitted: { spans: number; logs: number }, limit: number): string {
  const parts = [
    omitted.spans > 0 ? `${omitted.spans.toLocaleString('en-US')} more span${omitted.spans === 1 ? '' : 's'}` : '',
    omitted.logs > 0 ? `${omitted.logs.toLocaleString('en-US')} more log line${omitted.logs === 1 ? '' : 's'}` : '',
  ].filter((part) => part !== '')
  if (parts.length === 0) return ''
  return `\n${parts.join(' and ')} of this trace not shown (--limit ${limit}, the earliest first; the totals count every span; --limit 0 shows all)\n`
}

export const traceCommand: Command = {
  name: 'trace',
  summary: 'Print the span tree of one trace with tokens, cost and logs',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('trace', USAGE, {
      args: [...argv],
      allowPositionals: true,
      options: { ...DATABASE_ARG_OPTIONS, json: { type: 'boolean' }, limit: { type: 'string' } },
    })
    if (!parsed) return 2
    const { values, positionals } = parsed
    const [traceId, ...extra] = positionals
    const database = databaseArgs(values)
    const limit = values.limit === undefined ? DEFAULT_TRACE_LIMIT : /^\d{1,9}$/.test(values.limit) ? Number(values.limit) : undefined
    const problem =
      traceId === undefined || extra.length > 0 ? 'give exactly one trace id'
      : !isTraceId(traceId) ? `"${terminalSafe(String(traceId).slice(0, 40))}" is not a trace id (32 lower-case hex characters, not all zero)`
      : limit === undefined ? `--limit must be a whole number of rows (0: no limit), got "${terminalSafe(String(values.limit).slice(0, 40))}"`
      : typeof database === 'string' ? database
      : undefined
    if (problem || typeof database === 'string') {
      process.stderr.write(`sluice trace: ${terminalSafe(String(problem))}\n\n${USAGE}`)
      return 2
    }
    const sql = postgres(database.url, { onnotice: () => {}, max: 1, connection: { application_name: 'sluice trace' } })
    try {
      const trace = await loadTrace(sql, tableNames(database.schema, database.table), traceId as string, { limit: limit === 0 ? undefined : limit })
      const tree = buildTraceTree(trace)
      if (values.json) {
        const names = tableNames(database.schema, database.table)
        process.stdout.write(`${traceTreeJson(tree, { logs: `${names.schema}.${names.logs}`, spans: `${names.schema}.${names.spans}` })}\n`)
      } else {
        const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
        process.stdout.write(renderTraceTree(tree, { color }) + omittedNote(tree.omitted, limit as number))
      }
      if (tree.roots.length === 0 && tree.looseLogs.length === 0) {
        process.stderr.write(`sluice trace: nothing stored for trace ${traceId} in ${database.schema}.${database.table} / ${database.schema}.${database.table}_spans\n`)
        return 1
      }
      return 0
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') {
        // The app wrote into another table than the default "logs": say which spans tables there are.
        const hint = tablesHint(await findTables(sql, 'spans', database.schema).catch(() => ({ tables: [], total: 0 })), 'spans')
        const missing = error instanceof Error && !error.message.includes('_spans"') ? terminalSafe(error.message) : `no table ${database.schema}.${database.table}_spans`
        const flag = values.table === undefined ? ' (--table defaults to logs)' : ''
        process.stderr.write(`sluice trace: ${missing}${flag}; ${hint}\n`)
        return 1
      }
      // postgres.js errors never include the password; the URL itself is not printed.
      process.stderr.write(`sluice trace: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`)
      return 1
    } finally {
      await sql.end({ timeout: 1 })
    }
  },
}
