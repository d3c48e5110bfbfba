import postgres from 'postgres'
import { COUNTER_NAMES, DROP_REASONS, FAIL_REASONS, type CounterName } from '../../counters/counter-names.js'
import { tableNames } from '../../../sinks/postgres/table-names.js'
import { findTables, tablesHint } from '../find-tables.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'
import { stopOnSignal } from './stop-on-signal.js'
import type { DbTailArgs } from './tail-args.js'
import { WaitLimit } from './wait-limit.js'

/**
 * `sluice tail --url postgres://…` (or DATABASE_URL): the counters of every
 * process writing into one table, read from `<table>_stats` (one row per
 * writer, upserted by each worker every postgres.statsIntervalMs).
 * Complements --file / --url http://…, which show one process.
 */
export type { DbTailArgs }

/** Errors that mean the server was not reached at all (postgres.js passes node's codes through). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'ECONNRESET'])

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

/** Any writer (or anyone with access to the table) names the keys: `sinks.__proto__.delivered` must stay a sink name, so no prototype. */
function sinksOfRow(counters: Record<string, unknown>): WriterRow['sinks'] {
  const sinks = Object.create(null) as WriterRow['sinks']
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

/** Text: a totals line, then one indented line per writer; `DROPPING` marks writers whose dropped count moved. Terminal-safe line by line (no colors here). */
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
  return `${lines.map(terminalSafe).join('\n')}\n`
}

export function renderDbJson(now: DbTotals): string {
  return `${jsonTerminalSafe(JSON.stringify({
    time: now.time,
    total: now.total,
    writers: now.writers.map((w) => ({ writer_id: w.writerId, hostname: w.hostname, pid: w.pid, updated_at: w.updatedAt.toISOString(), final: w.final, dropped: w.dropped, failed: w.failed, counters: w.counters, sinks: w.sinks })),
  }))}\n`
}

export async function runDbTail(args: DbTailArgs, stdout: NodeJS.WriteStream = process.stdout): Promise<number> {
  // An unreachable server must not hold a read past --timeout (postgres.js waits 30 s by default).
  const connectTimeout = Math.min(10, Math.max(1, Math.ceil((args.timeoutMs ?? 10_000) / 1000)))
  const sql = postgres(args.url, { onnotice: () => {}, max: 1, connect_timeout: connectTimeout, connection: { application_name: 'sluice tail' } })
  const write = (text: string): void => void stdout.write(text)
  const screen = stdout.isTTY && !args.json
  const { stopped, dispose } = stopOnSignal()
  let timer: NodeJS.Timeout | undefined
  let previous: DbTotals | undefined
  let updates = 0
  let lastStatus: string | undefined
  let lastError: string | undefined
  const limit = new WaitLimit(args.timeoutMs)
  try {
    for (;;) {
      try {
        const now = await readWriters(sql, args)
        lastStatus = undefined
        lastError = undefined
        const text = args.json ? renderDbJson(now) : renderDbText(now, previous)
        write(screen ? `\x1b[H\x1b[J${text}` : text)
        previous = now
        updates++
        limit.updated()
        if (args.count !== undefined && updates >= args.count) break
      } catch (error) {
        const code = (error as { code?: string }).code
        const text = error instanceof Error ? error.message : String(error)
        // Listing the other tables costs a catalog query: only when the problem changes, not every interval.
        if (text !== lastError) {
          lastError = text
          lastStatus =
            code === '42P01'
              ? `no ${args.schema}.${args.table}_stats table; ${tablesHint(await findTables(sql, 'stats', args.schema).catch(() => ({ tables: [], total: 0 })), 'stats')}`
              : code !== undefined && NETWORK_CODES.has(code)
                ? `cannot reach the database: ${text}`
                : `cannot read the stats table: ${text}`
          write(args.json ? `${jsonTerminalSafe(JSON.stringify({ status: lastStatus }))}\n` : `# waiting: ${terminalSafe(lastStatus)}\n`)
        }
      }
      const gaveUp = limit.expired(lastStatus)
      if (gaveUp !== undefined) {
        process.stderr.write(`sluice tail: ${terminalSafe(gaveUp)}\n`)
        return 1
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
