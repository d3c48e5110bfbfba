import { parseArgs } from 'node:util'
import { parseDuration } from '../../../sinks/postgres/partition-options.js'
import { databaseArgs, EXPECTED_URL_SHAPE, notAPostgresUrl, POSTGRES_URL } from '../database-args.js'
import { explainParseError } from '../parse-error.js'

export type TailSource = { kind: 'file'; path: string } | { kind: 'url'; url: string }

/** Flags every tail mode has, read the same way. */
export interface CommonTailFlags {
  intervalMs: number
  json: boolean
  /** Stop after this many updates (scripts, tests); undefined: until Ctrl-C. */
  count: number | undefined
  /** Give up (exit 1) after this long without an update; undefined: wait as long as it takes. */
  timeoutMs: number | undefined
}

/** One process's counters: its stats file or loopback endpoint. */
export interface TailArgs extends CommonTailFlags {
  source: TailSource
}

/** Every writer's counters, from the `<table>_stats` rows in Postgres. */
export interface DbTailArgs extends CommonTailFlags {
  url: string
  schema: string
  table: string
  sinceMs: number
}

export type ParsedTail = { mode: 'snapshot'; args: TailArgs } | { mode: 'db'; args: DbTailArgs }

export class TailUsageError extends Error {}

/** Without --count, tail follows until Ctrl-C and waits as long as it takes; with it, a script is waiting: bound it. */
export const DEFAULT_TIMEOUT_MS = 30_000

const OPTIONS = {
  file: { type: 'string' },
  url: { type: 'string' },
  db: { type: 'string' },
  table: { type: 'string' },
  schema: { type: 'string' },
  since: { type: 'string' },
  interval: { type: 'string' },
  json: { type: 'boolean', default: false },
  count: { type: 'string' },
  timeout: { type: 'string' },
} as const

const HINTS = {
  url: 'http://127.0.0.1:<port> (an app\'s stats.port) or a postgres:// connection string (every writer); leave it out to use DATABASE_URL',
  file: 'the path of an app\'s stats.file',
}

function positiveInt(name: string, text: string | undefined, fallback: number | undefined, min: number): number | undefined {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) throw new TailUsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`)
  return value
}

/** `--timeout 30s` / `2m` / `500ms` / `0` (no limit); a bare number is seconds. */
export function parseTimeout(text: string | undefined, count: number | undefined): number | undefined {
  if (text === undefined) return count === undefined ? undefined : DEFAULT_TIMEOUT_MS
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw new TailUsageError(`--timeout must be a duration such as 30s, 2m or 500ms (0: no limit), got ${JSON.stringify(text)}`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = Math.round(Number(match[1]) * unit)
  return ms === 0 ? undefined : ms
}

/** `http://127.0.0.1:9464` means its `/stats`; a URL with a path is used as given. */
function statsUrl(text: string): string {
  const url = new URL(text)
  if (url.pathname === '/' || url.pathname === '' || url.pathname === '/metrics') url.pathname = '/stats'
  return url.toString()
}

function refuse(values: Record<string, unknown>, flags: readonly string[], why: string): void {
  const given = flags.filter((flag) => values[flag] !== undefined)
  if (given.length > 0) throw new TailUsageError(`${given.map((f) => `--${f}`).join(', ')} ${given.length > 1 ? 'apply' : 'applies'} only ${why}`)
}

/**
 * Picks the mode from what names the source: `--file` (a stats file),
 * `--url http://…` (a stats port), `--url postgres://…`, the old `--db`, or
 * else DATABASE_URL (every writer, from the database).
 */
export function parseTail(argv: readonly string[]): ParsedTail {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new TailUsageError(explainParseError(error, Object.keys(OPTIONS), HINTS))
  }
  const count = positiveInt('count', values.count as string | undefined, undefined, 1)
  const common: CommonTailFlags = {
    intervalMs: positiveInt('interval', values.interval as string | undefined, 1000, 50) as number,
    json: values.json === true,
    count,
    timeoutMs: parseTimeout(values.timeout as string | undefined, count),
  }
  const file = values.file as string | undefined
  const url = values.url as string | undefined
  const db = values.db as string | undefined
  const dbOnly = ['table', 'schema', 'since']
  if (file !== undefined) {
    if (url !== undefined || db !== undefined) throw new TailUsageError('give one source: --file, or --url')
    refuse(values, dbOnly, 'when reading the database (--url postgres://… or DATABASE_URL)')
    return { mode: 'snapshot', args: { source: { kind: 'file', path: file }, ...common } }
  }
  if (url !== undefined && /^https?:\/\//i.test(url)) {
    if (db !== undefined) throw new TailUsageError('give one source: --url http://… (a stats port) or --db/--url postgres://… (the database)')
    refuse(values, dbOnly, 'when reading the database (--url postgres://… or DATABASE_URL)')
    try {
      return { mode: 'snapshot', args: { source: { kind: 'url', url: statsUrl(url) }, ...common } }
    } catch {
      // Not echoed: an http URL can carry a user and password.
      throw new TailUsageError('--url must be an http URL such as http://127.0.0.1:9464; the one given does not parse')
    }
  }
  if (url !== undefined && !POSTGRES_URL.test(url)) {
    throw new TailUsageError(`--url must be http://127.0.0.1:<port> (an app's stats.port) or ${EXPECTED_URL_SHAPE} (the database), ${notAPostgresUrl(url)}`)
  }
  if (url === undefined && db === undefined && !process.env.DATABASE_URL) {
    throw new TailUsageError(
      'give a source: --file <path> (an app\'s stats.file), --url http://127.0.0.1:<port> (its stats.port), or --url postgres://… or DATABASE_URL (every writer, from <table>_stats)',
    )
  }
  const database = databaseArgs({ url, db, table: values.table as string | undefined, schema: values.schema as string | undefined })
  if (typeof database === 'string') throw new TailUsageError(database)
  const since = (values.since as string | undefined) ?? '1h'
  const sinceMs = parseDuration(since)
  if (sinceMs === undefined) throw new TailUsageError(`--since must be a number followed by m, h or d, got ${JSON.stringify(since)}`)
  return { mode: 'db', args: { ...database, sinceMs, ...common } }
}
