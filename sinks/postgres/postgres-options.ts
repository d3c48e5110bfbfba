import { OptionsError, readEnum, readIdentifier, readInt, readSection, readString, rejectUnknownKeys } from '../shared/option-reader.js'
import { isParseableConnectionString, UNPARSEABLE_URL_FIX } from './connection-string.js'
import { PARTITION_KEYS, resolvePartitionOptions, type PartitionOptions } from './partition-options.js'

export interface PostgresOptions extends PartitionOptions {
  /** Connection string; falls back to the DATABASE_URL environment variable. */
  readonly url: string
  /** Logs table; the spans and stats tables derive their names from it. */
  readonly table: string
  readonly schema: string
  /** Connections per worker. */
  readonly connections: number
  readonly connectTimeoutMs: number
  /**
   * 'off' (default): a batch's commit does not wait for the WAL flush. Much
   * cheaper, but a Postgres crash (not an app crash) can lose the last few
   * hundred ms of batches already counted as written. 'on' closes that gap.
   */
  readonly synchronousCommit: 'off' | 'on'
  /** Backoff while the database is unreachable: first delay, cap, and total budget per batch. */
  readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number; readonly budgetMs: number }
}

export const POSTGRES_KEYS = ['url', 'table', 'schema', 'connections', 'connectTimeoutMs', 'synchronousCommit', 'retry', ...PARTITION_KEYS] as const
const RETRY_KEYS = ['initialDelayMs', 'maxDelayMs', 'budgetMs'] as const

export function resolvePostgresOptions(root: Record<string, unknown>, env: NodeJS.ProcessEnv): PostgresOptions {
  const section = readSection(root, 'postgres', 'postgres') ?? {}
  rejectUnknownKeys(section, POSTGRES_KEYS, 'postgres')
  const url = readString(section, 'url', 'postgres') ?? env.DATABASE_URL
  if (!url) {
    throw new OptionsError('options.postgres.url is missing. Pass a connection string such as postgres://user:pass@host:5432/db, or set DATABASE_URL.')
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new OptionsError(
      'options.postgres.url must start with postgres:// or postgresql:// (the value is not shown, it may hold a password). Pass a connection string such as postgres://user:pass@host:5432/db.',
    )
  }
  if (!isParseableConnectionString(url)) {
    throw new OptionsError(`options.postgres.url cannot be parsed as a URL (the value is not shown, it may hold a password). ${UNPARSEABLE_URL_FIX}`)
  }
  const retry = readSection(section, 'retry', 'postgres.retry') ?? {}
  rejectUnknownKeys(retry, RETRY_KEYS, 'postgres.retry')
  const initialDelayMs = readInt(retry, 'initialDelayMs', 'postgres.retry', 100, { min: 1, max: 60_000, unit: 'ms' })
  return {
    ...resolvePartitionOptions(section),
    url,
    table: readIdentifier(section, 'table', 'postgres', 'logs'),
    schema: readIdentifier(section, 'schema', 'postgres', 'public'),
    // Two: one COPY is sent while the server works on the other (measured on 2 cores: +12–27% rows/s in a burst).
    connections: readInt(section, 'connections', 'postgres', 2, { min: 1, max: 16 }),
    connectTimeoutMs: readInt(section, 'connectTimeoutMs', 'postgres', 5000, { min: 100, max: 120_000, unit: 'ms' }),
    synchronousCommit: readEnum(section, 'synchronousCommit', 'postgres', ['off', 'on'] as const, 'off'),
    retry: {
      initialDelayMs,
      maxDelayMs: readInt(retry, 'maxDelayMs', 'postgres.retry', 5000, { min: initialDelayMs, max: 300_000, unit: 'ms' }),
      budgetMs: readInt(retry, 'budgetMs', 'postgres.retry', 30_000, { min: 0, max: 3_600_000, unit: 'ms' }),
    },
  }
}
