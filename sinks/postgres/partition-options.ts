import { describe, OptionsError, readInt } from '../shared/option-reader.js'

export type PartitionPeriod = 'day' | 'hour'

/** How the logs and spans tables are split by time, and how long partitions are kept. */
export interface PartitionOptions {
  /**
   * Range partitions on `time` (logs) and `start_time` (spans), one per UTC
   * day or hour; false keeps one plain table. Applies to tables pino-sluice
   * creates; an existing plain table is never rewritten (see docs/scale.md).
   */
  readonly partition: PartitionPeriod | false
  /** Whole partitions whose upper bound is older than this many ms are dropped; undefined keeps everything. */
  readonly retentionMs: number | undefined
  /** How often each worker upserts its counters into `<table>_stats`, in ms; 0 turns the stats rows off. */
  readonly statsIntervalMs: number
}

/** Measured in bench/writers.ts: daily partitions cost no measurable insert throughput (docs/scale.md). */
export const DEFAULT_PARTITION: PartitionPeriod | false = 'day'

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** '14d', '48h', '90m' → ms; anything else is undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(text.trim())
  if (!match) return undefined
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}

function readPartition(section: Record<string, unknown>): PartitionPeriod | false {
  const value = section.partition
  if (value === undefined) return DEFAULT_PARTITION
  if (value === false || value === 'day' || value === 'hour') return value
  throw new OptionsError(`options.postgres.partition must be 'day', 'hour' or false, got ${describe(value)}. Omit it to use the default '${String(DEFAULT_PARTITION)}'.`)
}

function readRetention(section: Record<string, unknown>, partition: PartitionPeriod | false): number | undefined {
  const value = section.retention
  if (value === undefined) return undefined
  const ms = typeof value === 'string' ? parseDuration(value) : undefined
  if (ms === undefined) {
    throw new OptionsError(`options.postgres.retention must be a duration such as '14d', '48h' or '90m', got ${describe(value)}. Omit it to keep every partition.`)
  }
  if (partition === false) {
    throw new OptionsError(`options.postgres.retention (${describe(value)}) drops whole time partitions, so it needs options.postgres.partition 'day' or 'hour', not false.`)
  }
  const periodMs = partition === 'day' ? UNIT_MS.d : UNIT_MS.h
  if (ms < periodMs) {
    throw new OptionsError(`options.postgres.retention ${describe(value)} is shorter than one ${partition} partition; use at least '1${partition === 'day' ? 'd' : 'h'}' or partition by 'hour'.`)
  }
  return ms
}

export function resolvePartitionOptions(section: Record<string, unknown>): PartitionOptions {
  const partition = readPartition(section)
  return {
    partition,
    retentionMs: readRetention(section, partition),
    statsIntervalMs: readInt(section, 'statsIntervalMs', 'postgres', 10_000, { min: 0, max: 3_600_000, unit: 'ms, 0 turns the stats rows off' }),
  }
}

export const PARTITION_KEYS = ['partition', 'retention', 'statsIntervalMs'] as const
