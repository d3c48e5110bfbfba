import { isParseableConnectionString, UNPARSEABLE_URL_FIX } from '../../sinks/postgres/connection-string.js'
import { IDENTIFIER_PATTERN } from '../options/option-reader.js'

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
    // Only the scheme is echoed: the rest may hold a password.
    return `${from} must be a postgres:// or postgresql:// connection string, got one starting with "${url.split(/:|\/\//)[0]?.slice(0, 20)}"`
  }
  if (!isParseableConnectionString(url)) return `${given === undefined ? 'DATABASE_URL' : values.url !== undefined ? '--url' : '--db'} cannot be parsed as a URL (not shown: it may hold a password). ${UNPARSEABLE_URL_FIX}`
  if (values.db !== undefined) process.stderr.write('sluice: --db is the old name of --url; use --url, or better DATABASE_URL\n')
  if (!IDENTIFIER_PATTERN.test(table)) return `--table must be a plain lower-case SQL identifier, got "${table.slice(0, 60)}"`
  if (!IDENTIFIER_PATTERN.test(schema)) return `--schema must be a plain lower-case SQL identifier, got "${schema.slice(0, 60)}"`
  return { url, table, schema }
}
