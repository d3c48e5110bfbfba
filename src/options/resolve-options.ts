import { CLOUDWATCH_KEYS, resolveCloudWatchOptions, type CloudWatchOptions } from '../../sinks/cloudwatch/cloudwatch-options.js'
import { POSTGRES_KEYS, resolvePostgresOptions, type PostgresOptions } from '../../sinks/postgres/postgres-options.js'
import { S3_KEYS, resolveS3Options, type S3Options } from '../../sinks/s3/s3-options.js'
import { resolveFileOptions, FILE_KEYS, type FileSinkOptions } from '../../sinks/file/file-options.js'
import { chooseStore, resolveSinks, type SinkEntry } from './sinks-options.js'
import { storeLimits, type ResolvedStore } from './store-limits.js'
import { STATS_KEYS, resolveStatsOptions, type StatsOptions } from '../stats/stats-options.js'
import { SPOOL_KEYS, resolveSpoolOptions, type SpoolOptions } from './spool-options.js'
import type { OverflowPolicy } from '../channel/bounded-channel.js'
import { COUNTER_SLOTS } from '../counters/counter-names.js'
import { OptionsError, describe, readEnum, readInt, readSection, rejectUnknownKeys } from '../../sinks/shared/option-reader.js'

const MiB = 1024 * 1024

export interface ChannelOptions {
  readonly maxRecords: number
  readonly maxBytes: number
  /** A single line above this size is dropped as `too_large`. */
  readonly maxRecordBytes: number
  readonly overflow: OverflowPolicy
}

export interface RingOptions {
  /** A power of two. */
  readonly bytes: number
}

export interface BatchOptions {
  readonly maxRecords: number
  readonly maxBytes: number
  readonly intervalMs: number
  /** A record at or above this pino level is flushed at once. */
  readonly flushLevel: number
}

/**
 * The longest exit budget. thread-stream's end() waits for the worker in ten
 * 1 s waits and then gives up ("end() took too long (10s)"); the last read of
 * the ring can use up one of them early, so about 9 s are certain. Close fits
 * everything inside the budget, and the worker needs a few hundred ms after it
 * (the exit report, thread teardown): 8 s leaves a second of margin.
 */
export const MAX_EXIT_BUDGET_MS = 8000

export interface ExitOptions {
  /** Time allowed for everything close does (drain, commit, final rows, flushes, ending connections). */
  readonly budgetMs: number
  /** Print one stderr line with the totals when anything was dropped or failed. */
  readonly report: boolean
}

export interface ResolvedOptions {
  /** Undefined when Postgres is not the store of record (`postgres: false`, `file`, or a sink with role 'store'). */
  readonly postgres: PostgresOptions | undefined
  /** The built-in NDJSON file store of record. */
  readonly file: FileSinkOptions | undefined
  /** Custom sinks, in the order given. */
  readonly sinks: readonly SinkEntry[]
  /** Which sink is the store of record, and how hard the pipeline drives it (store-limits.ts). */
  readonly store: ResolvedStore
  readonly channel: ChannelOptions
  readonly ring: RingOptions
  readonly batch: BatchOptions
  readonly exit: ExitOptions
  readonly counters: SharedArrayBuffer | undefined
  readonly s3: S3Options | undefined
  readonly cloudwatch: CloudWatchOptions | undefined
  readonly stats: StatsOptions | undefined
  /** The disk spool (docs/spool.md); undefined when off. */
  readonly spool: SpoolOptions | undefined
}

const ROOT_KEYS = ['postgres', 'channel', 'ring', 'batch', 'exit', 'counters', 's3', 'cloudwatch', 'stats', 'file', 'sinks', 'spool'] as const
const CHANNEL_KEYS = ['maxRecords', 'maxBytes', 'maxRecordBytes', 'overflow'] as const
const BATCH_KEYS = ['maxRecords', 'maxBytes', 'intervalMs', 'flushLevel'] as const
const EXIT_KEYS = ['budgetMs', 'report'] as const
const RING_KEYS = ['bytes'] as const
/** Where a key given at the top level belongs, for "did you mean postgres.table". */
const SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  postgres: POSTGRES_KEYS,
  channel: CHANNEL_KEYS,
  ring: RING_KEYS,
  batch: BATCH_KEYS,
  exit: EXIT_KEYS,
  s3: S3_KEYS,
  cloudwatch: CLOUDWATCH_KEYS,
  stats: STATS_KEYS,
  file: FILE_KEYS,
  spool: SPOOL_KEYS,
}

function resolveChannel(root: Record<string, unknown>): ChannelOptions {
  const section = readSection(root, 'channel', 'channel') ?? {}
  rejectUnknownKeys(section, CHANNEL_KEYS, 'channel')
  const maxBytes = readInt(section, 'maxBytes', 'channel', 64 * MiB, { min: 1024, max: 2048 * MiB, unit: 'bytes' })
  const maxRecordBytes = readInt(section, 'maxRecordBytes', 'channel', Math.min(MiB, maxBytes), { min: 64, max: maxBytes, unit: 'bytes, at most channel.maxBytes' })
  return {
    maxRecords: readInt(section, 'maxRecords', 'channel', 8192, { min: 1, max: 10_000_000 }),
    maxBytes,
    maxRecordBytes,
    overflow: readEnum(section, 'overflow', 'channel', ['drop-newest', 'drop-oldest'] as const, 'drop-newest'),
  }
}

function resolveRing(root: Record<string, unknown>): RingOptions {
  const section = readSection(root, 'ring', 'ring') ?? {}
  rejectUnknownKeys(section, RING_KEYS, 'ring')
  // 32 MiB: about 230k bench lines, what a 1M tight loop needs for 40% to reach the database on 2 cores
  // and a whole 100k-line startup burst; its pages become resident as lines pass through (docs/benchmarks.md).
  const bytes = readInt(section, 'bytes', 'ring', 32 * MiB, { min: 64 * 1024, max: 1024 * MiB, unit: 'bytes' })
  // A power of two turns the ring's position arithmetic into masks.
  return { bytes: 2 ** Math.ceil(Math.log2(bytes)) }
}

function resolveBatch(root: Record<string, unknown>): BatchOptions {
  const section = readSection(root, 'batch', 'batch') ?? {}
  rejectUnknownKeys(section, BATCH_KEYS, 'batch')
  return {
    // Most per transaction; a batch is due at 1000 queued (batcher.ts), larger ones form from a backlog.
    maxRecords: readInt(section, 'maxRecords', 'batch', 5000, { min: 1, max: 100_000 }),
    maxBytes: readInt(section, 'maxBytes', 'batch', 8 * MiB, { min: 1024, max: 1024 * MiB, unit: 'bytes' }),
    intervalMs: readInt(section, 'intervalMs', 'batch', 1000, { min: 1, max: 3_600_000, unit: 'ms' }),
    flushLevel: readInt(section, 'flushLevel', 'batch', 50, { min: 0, max: 1000, unit: 'pino level number' }),
  }
}

function resolveExit(root: Record<string, unknown>): ExitOptions {
  const section = readSection(root, 'exit', 'exit') ?? {}
  rejectUnknownKeys(section, EXIT_KEYS, 'exit')
  const report = section.report ?? true
  if (typeof report !== 'boolean') throw new OptionsError(`options.exit.report must be true or false, got ${describe(report)}. Omit it to use the default true.`)
  return {
    budgetMs: readInt(section, 'budgetMs', 'exit', 5000, { min: 0, max: MAX_EXIT_BUDGET_MS, unit: 'ms; pino gives the worker 10 s to end, and close needs a margin' }),
    report,
  }
}

function resolveCounters(root: Record<string, unknown>): SharedArrayBuffer | undefined {
  const value = root.counters
  if (value === undefined) return undefined
  if (!(value instanceof SharedArrayBuffer) || value.byteLength < COUNTER_SLOTS * 8) {
    throw new OptionsError(`options.counters must be the buffer of createStats() (a SharedArrayBuffer of ${COUNTER_SLOTS * 8} bytes), got ${describe(value)}`)
  }
  return value
}

/** The largest record taken: with S3 configured, big records are offloaded instead of dropped, up to s3.maxRecordBytes. */
export function maxRecordBytes(options: Pick<ResolvedOptions, 's3' | 'channel'>): number {
  return options.s3?.maxRecordBytes ?? options.channel.maxRecordBytes
}

/** Validates user options once and returns a frozen config; throws OptionsError naming the option and the fix. */
export function resolveOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) throw new OptionsError(`options must be an object such as { postgres: { url, table } }, got ${describe(input)}`)
  // pino adds `$context` and `pinoWillSendConfig` to every transport's options.
  const { $context: _context, pinoWillSendConfig: _willSend, ...root } = input as Record<string, unknown>
  rejectUnknownKeys(root, ROOT_KEYS, '', SECTION_KEYS)
  const channel = Object.freeze(resolveChannel(root))
  const sinks = resolveSinks(root)
  const choice = chooseStore(root, sinks)
  const postgres = choice.kind === 'postgres' ? Object.freeze(resolvePostgresOptions(root, env)) : undefined
  const store = Object.freeze({ ...choice, ...storeLimits(choice, postgres, sinks) })
  return Object.freeze({
    postgres,
    file: resolveFileOptions(root),
    sinks,
    store,
    channel,
    ring: Object.freeze(resolveRing(root)),
    batch: Object.freeze(resolveBatch(root)),
    exit: Object.freeze(resolveExit(root)),
    counters: resolveCounters(root),
    s3: resolveS3Options(root, channel.maxBytes),
    cloudwatch: resolveCloudWatchOptions(root),
    stats: resolveStatsOptions(root),
    spool: resolveSpoolOptions(root),
  })
}
