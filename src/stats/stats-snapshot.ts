import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'
import { COUNTER_NAMES, type CounterName } from '../counters/counter-names.js'
import type { SinkStatsMap } from '../counters/sink-counters.js'

/** Bumped when a field changes meaning; readers refuse versions they do not know. */
export const STATS_SCHEMA_VERSION = 1

/**
 * What the stats file holds and `GET /stats` returns: the counters under their
 * flat names (the same names as everywhere else), when they were read and by whom.
 */
export interface StatsSnapshot {
  schema: number
  /** Epoch ms when the counters were read. */
  timeMs: number
  time: string
  /** How often the writer publishes; readers call a snapshot stale after a few intervals. */
  intervalMs: number
  writer: { hostname: string; pid: number; threadId: number; startedMs: number }
  /** Loopback endpoint, when `stats.port` is set: how a `port: 0` choice is discovered. */
  http: { port: number; url: string } | null
  /** True in the snapshot written by close(): the writer is gone, the totals are final. */
  final: boolean
  counters: Record<CounterName, number>
  /** Per sink: delivered, failed and failedBy (absent in snapshots of writers before sinks were counted). */
  sinks?: SinkStatsMap
}

export interface SnapshotSource {
  readonly intervalMs: number
  readonly startedMs: number
  http: StatsSnapshot['http']
  read(): Record<CounterName, number>
  readSinks?(): SinkStatsMap
}

export function takeSnapshot(source: SnapshotSource, final = false): StatsSnapshot {
  const now = Date.now()
  return {
    schema: STATS_SCHEMA_VERSION,
    timeMs: now,
    time: new Date(now).toISOString(),
    intervalMs: source.intervalMs,
    writer: { hostname: hostname(), pid: process.pid, threadId, startedMs: source.startedMs },
    http: source.http,
    final,
    counters: source.read(),
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
  const v = value as Partial<StatsSnapshot>
  if (v.schema !== STATS_SCHEMA_VERSION) return { ok: false, reason: `unknown schema version ${String(v.schema)} (this sluice reads ${STATS_SCHEMA_VERSION})` }
  if (typeof v.timeMs !== 'number' || typeof v.counters !== 'object' || v.counters === null || typeof v.writer !== 'object' || v.writer === null) {
    return { ok: false, reason: 'missing timeMs, writer or counters' }
  }
  const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, Number((v.counters as Record<string, unknown>)[name] ?? 0)])) as Record<CounterName, number>
  const sinks = typeof v.sinks === 'object' && v.sinks !== null ? v.sinks : {}
  return { ok: true, snapshot: { ...(v as StatsSnapshot), counters, sinks } }
}
