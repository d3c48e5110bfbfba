import postgres from 'postgres'
import { COUNTER_NAMES, DROP_REASONS, FAIL_REASONS, type CounterName } from '../../counters/counter-names.js'
import { parseDuration } from '../../../sinks/postgres/partition-options.js'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { databaseArgs } from '../database-args.js'
import { stopOnSignal } from './stop-on-signal.js'
import { parseTailFlags, TailUsageError } from './tail-args.js'

/**
 * `sluice tail --db <url>`: the counters of every process writing into one
 * table, read from `<table>_stats` (one row per writer, upserted by each
 * worker every postgres.statsIntervalMs). Complements --file/--url, which
 * show one process.
 */
export const DB_USAGE = `       sluice tail --db <postgres-url> [--table logs] [--schema public] [--since 1h] [--interval <ms>] [--json] [--count <n>]

  --db <url>        read the per-writer rows of <table>_stats: one line per writer
                    (hostname:pid, live/final/stale) and the totals of all of them
  --since <d>       writers whose row changed within this long (default 1h; e.g. 30m, 7d)
`

export interface DbTailArgs {
  url: string
  schema: string
  table: string
  sinceMs: number
  intervalMs: number
  json: boolean
  count: number | undefined
}

export function parseDbTailArgs(argv: readonly string[]): DbTailArgs {
  const { values, common } = parseTailFlags(argv, { db: { type: 'string' }, table: { type: 'string' }, schema: { type: 'string' }, since: { type: 'string' } })
  const url = values.db as string | undefined
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new TailUsageError('--db must be a postgres:// connection string')
  const database = databaseArgs({ url, table: values.table as string | undefined, schema: values.schema as string | undefined }, '--db')
  if (typeof database === 'string') throw new TailUsageError(database)
  const { table, schema } = database
  const since = (values.since as string | undefined) ?? '1h'
  const sinceMs = parseDuration(since)
  if (sinceMs === undefined) throw new TailUsageError(`--since must be a number followed by m, h or d, got ${JSON.stringify(since)}`)
  return { url, schema, table, sinceMs, ...common }
}

export interface WriterRow {
  writerId: string
  hostname: string
  pid: number
  updatedAt: Date
  final: boolean
  counters: Record<CounterName, number>
  dropped: number
  failed: number
  /** sinks.<name>.delivered/failed from the row (absent for writers before per-sink counts). */
  sinks: Record<string, { delivered: number; failed: number }>
}

function sinksOfRow(counters: Record<string, unknown>): WriterRow['sinks'] {
  const sinks: WriterRow['sinks'] = {}
  for (const [key, value] of Object.entries(counters)) {
    const match = /^sinks\.(.+)\.(delivered|failed)$/.exec(key)
    if (!match) continue
    const entry = (sinks[match[1] as string] ??= { delivered: 0, failed: 0 })
    entry[match[2] as 'delivered' | 'failed'] = Number(value)
  }
  return sinks
}

export interface DbTotals {
  time: string
  writers: WriterRow[]
  total: { received: number; written: number; dropped: number; failed: number } & Record<string, number>
}

export async function readWriters(sql: postgres.Sql, args: Pick<DbTailArgs, 'schema' | 'table' | 'sinceMs'>): Promise<DbTotals> {
  const { schema, stats } = tableNames(args.schema, args.table)
  const rows = await sql<{ writer_id: string; hostname: string; pid: number; updated_at: Date; final: boolean; counters: Record<string, unknown> }[]>`
    select writer_id, hostname, pid, updated_at, final, counters from ${sql(schema)}.${sql(stats)}
    where updated_at > now() - ${`${Math.round(args.sinceMs / 1000)} seconds`}::interval
    order by hostname, pid, writer_id`
  const writers = rows.map((r): WriterRow => {
    const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, Number(r.counters[name] ?? 0)])) as Record<CounterName, number>
    return {
      writerId: r.writer_id,
      hostname: r.hostname,
      pid: r.pid,
      updatedAt: r.updated_at,
      final: r.final,
      counters,
      dropped: DROP_REASONS.reduce((sum, reason) => sum + counters[`dropped_${reason}`], 0),
      failed: FAIL_REASONS.reduce((sum, reason) => sum + counters[`failed_${reason}`], 0),
      sinks: sinksOfRow(r.counters),
    }
  })
  const total: DbTotals['total'] = { received: 0, written: 0, dropped: 0, failed: 0 }
  for (const w of writers) {
    total.received += w.counters.received
    total.written += w.counters.written
    total.dropped += w.dropped
    total.failed += w.failed
    for (const reason of DROP_REASONS) total[`dropped_${reason}`] = (total[`dropped_${reason}`] ?? 0) + w.counters[`dropped_${reason}`]
    for (const reason of FAIL_REASONS) total[`failed_${reason}`] = (total[`failed_${reason}`] ?? 0) + w.counters[`failed_${reason}`]
  }
  return { time: new Date().toISOString(), writers, total }
}

function state(w: WriterRow, now: number, intervalHintMs: number): string {
  if (w.final) return 'final'
  const age = now - w.updatedAt.getTime()
  return age > Math.max(3 * intervalHintMs, 30_000) ? `stale ${Math.round(age / 1000)}s` : 'live'
}

/** Text: a totals line, then one indented line per writer; `DROPPING` marks writers whose dropped count moved. */
export function renderDbText(now: DbTotals, previous: DbTotals | undefined): string {
  const before = new Map(previous?.writers.map((w) => [w.writerId, w]))
  const t = now.total
  const lines = [`${now.time} writers=${now.writers.length} received=${t.received} written=${t.written} dropped=${t.dropped} failed=${t.failed}`]
  const at = Date.parse(now.time)
  for (const w of now.writers) {
    const c = w.counters
    const moved = before.has(w.writerId) ? w.dropped - (before.get(w.writerId)?.dropped ?? 0) : 0
    const reasons = [...DROP_REASONS.map((r) => [`dropped_${r}`, c[`dropped_${r}`]] as const), ...FAIL_REASONS.map((r) => [`failed_${r}`, c[`failed_${r}`]] as const)]
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name}=${n}`)
    for (const [name, s] of Object.entries(w.sinks)) reasons.push(`sinks.${name}.delivered=${s.delivered} sinks.${name}.failed=${s.failed}`)
    lines.push(
      `  ${w.hostname}:${w.pid} ${w.writerId} ${state(w, at, 10_000)} received=${c.received} written=${c.written} dropped=${w.dropped} failed=${w.failed}${reasons.length ? ` (${reasons.join(' ')})` : ''}${moved > 0 ? ` DROPPING +${moved}` : ''}`,
    )
  }
  return `${lines.join('\n')}\n`
}

export function renderDbJson(now: DbTotals): string {
  return `${JSON.stringify({
    time: now.time,
    total: now.total,
    writers: now.writers.map((w) => ({ writerId: w.writerId, hostname: w.hostname, pid: w.pid, updatedAt: w.updatedAt.toISOString(), final: w.final, dropped: w.dropped, failed: w.failed, counters: w.counters, sinks: w.sinks })),
  })}\n`
}

export async function runDbTail(args: DbTailArgs, stdout: NodeJS.WriteStream = process.stdout): Promise<number> {
  const sql = postgres(args.url, { onnotice: () => {}, max: 1, connection: { application_name: 'sluice tail' } })
  const write = (text: string): void => void stdout.write(text)
  const screen = stdout.isTTY && !args.json
  const { stopped, dispose } = stopOnSignal()
  let timer: NodeJS.Timeout | undefined
  let previous: DbTotals | undefined
  let updates = 0
  let lastStatus: string | undefined
  try {
    for (;;) {
      try {
        const now = await readWriters(sql, args)
        lastStatus = undefined
        const text = args.json ? renderDbJson(now) : renderDbText(now, previous)
        write(screen ? `\x1b[H\x1b[J${text}` : text)
        previous = now
        updates++
        if (args.count !== undefined && updates >= args.count) break
      } catch (error) {
        const code = (error as { code?: string }).code
        const message = code === '42P01' ? `no ${args.table}_stats table yet; has a writer with statsIntervalMs > 0 started?` : `cannot read the stats table: ${error instanceof Error ? error.message : String(error)}`
        if (message !== lastStatus) write(args.json ? `${JSON.stringify({ status: message })}\n` : `# waiting: ${message}\n`)
        lastStatus = message
      }
      const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, args.intervalMs)))
      if (!(await Promise.race([wait.then(() => true), stopped.then(() => false)]))) break
    }
  } finally {
    clearTimeout(timer)
    dispose()
    await sql.end({ timeout: 1 })
  }
  return 0
}
