import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { isTraceId } from '../../spans/ids.js'
import { loadTrace } from '../../spans/load-trace.js'
import { buildTraceTree, renderTraceTree, traceTreeJson } from '../../spans/trace-tree.js'
import type { Command } from '../command.js'

const USAGE = `Usage: sluice trace <trace_id> [options]

Prints the span tree of one trace: each span with its status, duration, tokens
and cost, and the log lines written inside it, in time order. The first line
holds the trace totals (tokens, cache hit ratio, cost).

Options:
  --url <url>        Postgres connection string (default: DATABASE_URL)
  --table <name>     logs table; spans are read from <name>_spans (default: logs)
  --schema <name>    schema (default: public)
  --json             print the tree as JSON instead (counts beyond 2^53 as strings)
`

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/

export const traceCommand: Command = {
  name: 'trace',
  summary: 'Print the span tree of one trace with tokens, cost and logs',
  usage: USAGE,
  async run(argv) {
    let parsed
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { url: { type: 'string' }, table: { type: 'string' }, schema: { type: 'string' }, json: { type: 'boolean' } },
      })
    } catch (error) {
      process.stderr.write(`sluice trace: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
      return 2
    }
    const { values, positionals } = parsed
    const [traceId, ...extra] = positionals
    const url = values.url ?? process.env.DATABASE_URL
    const table = values.table ?? 'logs'
    const schema = values.schema ?? 'public'
    const problem =
      traceId === undefined || extra.length > 0 ? 'give exactly one trace id'
      : !isTraceId(traceId) ? `"${String(traceId).slice(0, 40)}" is not a trace id (32 lower-case hex characters, not all zero)`
      : !url ? 'give --url or set DATABASE_URL'
      : !IDENTIFIER.test(table) ? `--table must be a plain lower-case SQL identifier, got "${table.slice(0, 60)}"`
      : !IDENTIFIER.test(schema) ? `--schema must be a plain lower-case SQL identifier, got "${schema.slice(0, 60)}"`
      : undefined
    if (problem) {
      process.stderr.write(`sluice trace: ${problem}\n\n${USAGE}`)
      return 2
    }
    const sql = postgres(url as string, { onnotice: () => {}, max: 1, connection: { application_name: 'sluice trace' } })
    try {
      const tree = buildTraceTree(await loadTrace(sql, tableNames(schema, table), traceId as string))
      if (values.json) {
        process.stdout.write(`${traceTreeJson(tree)}\n`)
      } else {
        const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
        process.stdout.write(renderTraceTree(tree, { color }))
      }
      if (tree.roots.length === 0 && tree.looseLogs.length === 0) {
        process.stderr.write(`sluice trace: nothing stored for trace ${traceId} in ${schema}.${table} / ${schema}.${table}_spans\n`)
        return 1
      }
      return 0
    } catch (error) {
      // postgres.js errors never include the password; the URL itself is not printed.
      process.stderr.write(`sluice trace: ${error instanceof Error ? error.message : String(error)}\n`)
      return 1
    } finally {
      await sql.end({ timeout: 1 })
    }
  },
}
