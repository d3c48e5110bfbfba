import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'
import { COUNTER_NAMES, type CounterName } from '../counters/counter-names.js'
import type { SinkStatsMap } from '../counters/sink-counters.js'
import { counterTotals, type CounterTotals } from '../counters/stats.js'

/** Every counter under its one name plus the `dropped`/`failed` totals: the same keys as `stats.read()`. */
export type SnapshotCounters = Record<CounterName, number> & CounterTotals

/**
 * Bumped when a field changes meaning; readers refuse versions they do not
 * know. 2: every field snake_case like the counters (1 had timeMs, intervalMs,
 * writer.threadId, writer.startedMs; still read).
 */
export const STATS_SCHEMA_VERSION = 2

/**
 * What the stats file holds and `GET /stats` returns: the counters under their
 * flat names (the same names as everywhere else, plus the `dropped`/`failed`
 * totals), when they were read and by whom. The fields besides `counters` are
 * documented in docs/metrics.md ("The stats file").
 */
export interface StatsSnapshot {
  schema: number
  /** When the counters were read: ISO text and epoch ms. */
  time: string
  time_ms: number
  /** How often the writer publishes; readers call a snapshot stale after a few intervals. */
  interval_ms: number
  writer: { hostname: string; pid: number; thread_id: number; started_ms: number }
  /** Loopback endpoint, when `stats.port` is set: how a `port: 0` choice is discovered. */
  http: { port: number; url: string } | null
  /** True in the snapshot written by close(): the writer is gone, the totals are final. */
  final: boolean
  counters: SnapshotCounters
  /** Per sink: delivered, failed and failed_<reason> (absent in snapshots of writers before sinks were counted). */
  sinks?: SinkStatsMap
}

export interface SnapshotSource {
  readonly intervalMs: number
  readonly startedMs: number
  http: StatsSnapshot['http']
  read(): Record<CounterName, number>
  readSinks?(): SinkStatsMap
}

function withTotals(flat: Record<CounterName, number>): SnapshotCounters {
  return { ...flat, ...counterTotals(flat) }
}

export function takeSnapshot(source: SnapshotSource, final = false): StatsSnapshot {
  const now = Date.now()
  return {
    schema: STATS_SCHEMA_VERSION,
    time: new Date(now).toISOString(),
    time_ms: now,
    interval_ms: source.intervalMs,
    writer: { hostname: hostname(), pid: process.pid, thread_id: threadId, started_ms: source.startedMs },
    http: source.http,
    final,
    counters: withTotals(source.read()),
    sinks: source.readSinks?.() ?? {},
  }
}

/** Checks what a reader got (file or HTTP) and fills counters a newer or older writer did not have with 0. */
export function parseSnapshot(text: string): { ok: true; snapshot: StatsSnapshot } | { ok: false; reason: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'not JSON' }
  }
  if (value === null || typeof value !== 'object') return { ok: false, reason: 'not a JSON object' }
  const v = fromSchema1(value as Record<string, unknown>) as Partial<StatsSnapshot>
  if (v.schema !== STATS_SCHEMA_VERSION) return { ok: false, reason: `unknown schema version ${String(v.schema)} (this sluice reads 1 and ${STATS_SCHEMA_VERSION})` }
  if (typeof v.time_ms !== 'number' || typeof v.counters !== 'object' || v.counters === null || typeof v.writer !== 'object' || v.writer === null) {
    return { ok: false, reason: 'missing time_ms, writer or counters' }
  }
  const flat = Object.fromEntries(COUNTER_NAMES.map((name) => [name, Number((v.counters as Record<string, unknown>)[name] ?? 0)])) as Record<CounterName, number>
  const counters = withTotals(flat)
  const sinks = typeof v.sinks === 'object' && v.sinks !== null ? v.sinks : {}
  return { ok: true, snapshot: { ...(v as StatsSnapshot), counters, sinks } }
}

/** A snapshot from a writer of schema 1 (camelCase metadata) in today's names, so a newer tail reads an older app. */
function fromSchema1(v: Record<string, unknown>): Record<string, unknown> {
  if (v.schema !== 1) return v
  const writer = (typeof v.writer === 'object' && v.writer !== null ? v.writer : {}) as Record<string, unknown>
  return {
    ...v,
    schema: STATS_SCHEMA_VERSION,
    time_ms: v.timeMs,
    interval_ms: v.intervalMs,
    writer: { hostname: writer.hostname, pid: writer.pid, thread_id: writer.threadId, started_ms: writer.startedMs },
  }
}
