import { isParseableConnectionString, UNPARSEABLE_URL_FIX } from '../../sinks/postgres/connection-string.js'
import { IDENTIFIER_PATTERN } from '../../sinks/shared/option-reader.js'

/**
 * parseArgs options shared by every command that reads pino-sluice's tables:
 * `--url` (default DATABASE_URL) names the database everywhere; `--db` is its
 * old name from `tail`, still accepted.
 */
export const DATABASE_ARG_OPTIONS = {
  url: { type: 'string' },
  db: { type: 'string' },
  table: { type: 'string' },
  schema: { type: 'string' },
} as const

/** For every command's --help. */
export const DATABASE_USAGE = `  --url <url>        Postgres connection string (default: DATABASE_URL; prefer the environment:
                     a URL on the command line, password included, is visible to other users in ps)
  --table <name>     logs table; spans are <name>_spans, counters <name>_stats (default: logs)
  --schema <name>    schema (default: public)`

export interface DatabaseArgs {
  url: string
  table: string
  schema: string
}

export const POSTGRES_URL = /^postgres(ql)?:\/\//

/** What a database URL looks like, for messages that refuse one. */
export const EXPECTED_URL_SHAPE = 'postgres://user:password@host:5432/dbname (or postgresql://)'

/**
 * Why a value is not a postgres URL, without echoing any of it: a mistyped
 * DATABASE_URL is often a key=value string that starts with the password.
 * Only a URL scheme (`mysql://`) is named, as nothing secret comes before `://`.
 */
export function notAPostgresUrl(value: string): string {
  const scheme = /^([a-z][a-z0-9+.-]{0,19}):\/\//i.exec(value)?.[1]
  if (scheme !== undefined) return `got a ${scheme.toLowerCase()}:// URL`
  if (/^\s*[a-z_]+\s*=/i.test(value)) return 'got a key=value connection string (its value is not shown); write it as a URL'
  return 'got something else (its value is not shown)'
}

/** Resolves --url (or --db, or DATABASE_URL), --table and --schema, or returns the usage problem with them. */
export function databaseArgs(values: { url?: string | undefined; db?: string | undefined; table?: string | undefined; schema?: string | undefined }): DatabaseArgs | string {
  if (values.url !== undefined && values.db !== undefined) return 'give the database once: --url (--db is its old name)'
  const given = values.url ?? values.db
  const url = given ?? process.env.DATABASE_URL
  const table = values.table ?? 'logs'
  const schema = values.schema ?? 'public'
  if (!url) return 'give --url postgres://… or set DATABASE_URL (the environment keeps the password out of ps)'
  if (!POSTGRES_URL.test(url)) {
    const from = given === undefined ? 'DATABASE_URL' : values.url !== undefined ? '--url' : '--db'
    return `${from} must be a connection URL of the shape ${EXPECTED_URL_SHAPE}, ${notAPostgresUrl(url)}`
  }
  if (!isParseableConnectionString(url)) return `${given === undefined ? 'DATABASE_URL' : values.url !== undefined ? '--url' : '--db'} cannot be parsed as a URL (not shown: it may hold a password). ${UNPARSEABLE_URL_FIX}`
  if (values.db !== undefined) process.stderr.write('sluice: --db is the old name of --url; use --url, or better DATABASE_URL\n')
  if (!IDENTIFIER_PATTERN.test(table)) return `--table must be a plain lower-case SQL identifier, got "${table.slice(0, 60)}"`
  if (!IDENTIFIER_PATTERN.test(schema)) return `--schema must be a plain lower-case SQL identifier, got "${schema.slice(0, 60)}"`
  return { url, table, schema }
}
