import { createHash } from 'node:crypto'
import type { PartitionPeriod } from './partition-options.js'

export const PERIOD_MS: Readonly<Record<PartitionPeriod, number>> = { day: 86_400_000, hour: 3_600_000 }

/** Postgres truncates longer identifiers silently, which could make two partitions share a name. */
const MAX_IDENTIFIER = 63

/** Start (epoch ms, UTC) of the period holding `timeMs`; epoch ms are UTC, so flooring aligns on UTC midnight/hours. */
export function periodStart(timeMs: number, period: PartitionPeriod): number {
  const width = PERIOD_MS[period]
  return Math.floor(timeMs / width) * width
}

/** `logs_p20261123` (day) or `logs_p2026112313` (hour); a long parent name is shortened with a hash so names stay unique. */
export function partitionName(parent: string, startMs: number, period: PartitionPeriod): string {
  const iso = new Date(startMs).toISOString()
  const stamp = `p${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${period === 'hour' ? iso.slice(11, 13) : ''}`
  return childName(parent, stamp)
}

export function defaultPartitionName(parent: string): string {
  return childName(parent, 'pdefault')
}

function childName(parent: string, suffix: string): string {
  const name = `${parent}_${suffix}`
  if (name.length <= MAX_IDENTIFIER) return name
  const hash = createHash('sha1').update(parent).digest('hex').slice(0, 8)
  return `${parent.slice(0, MAX_IDENTIFIER - suffix.length - hash.length - 2)}_${hash}_${suffix}`
}

/**
 * The periods a writer creates partitions for on demand: from `pastMs` before
 * now up to one day ahead (clock skew). Records outside land in the DEFAULT
 * partition instead of creating a partition per stray timestamp (a year-2999
 * bug must not make a partition per record).
 */
export interface PartitionWindow {
  readonly period: PartitionPeriod
  readonly pastMs: number
  readonly futureMs: number
}

/** Periods of `times` inside the window that are not in `known`, sorted. */
export function missingPeriods(times: Iterable<number>, known: ReadonlySet<number>, window: PartitionWindow, now: number): number[] {
  const low = periodStart(now - window.pastMs, window.period)
  const high = now + window.futureMs
  const missing = new Set<number>()
  for (const time of times) {
    if (!Number.isFinite(time)) continue
    const start = periodStart(time, window.period)
    if (start >= low && start <= high && !known.has(start)) missing.add(start)
  }
  return [...missing].sort((a, b) => a - b)
}
