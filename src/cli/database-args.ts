import { IDENTIFIER_PATTERN } from '../options/option-reader.js'

/** parseArgs options shared by every command that reads pino-sluice's tables. */
export const DATABASE_ARG_OPTIONS = {
  url: { type: 'string' },
  table: { type: 'string' },
  schema: { type: 'string' },
} as const

export interface DatabaseArgs {
  url: string
  table: string
  schema: string
}

/** Resolves --url (or DATABASE_URL), --table and --schema, or returns the usage problem with them. */
export function databaseArgs(values: { url?: string | undefined; table?: string | undefined; schema?: string | undefined }, urlFlag = '--url'): DatabaseArgs | string {
  const url = values.url ?? process.env.DATABASE_URL
  const table = values.table ?? 'logs'
  const schema = values.schema ?? 'public'
  if (!url) return `give ${urlFlag} or set DATABASE_URL`
  if (!IDENTIFIER_PATTERN.test(table)) return `--table must be a plain lower-case SQL identifier, got "${table.slice(0, 60)}"`
  if (!IDENTIFIER_PATTERN.test(schema)) return `--schema must be a plain lower-case SQL identifier, got "${schema.slice(0, 60)}"`
  return { url, table, schema }
}
