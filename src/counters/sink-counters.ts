/**
 * Per-sink counters: how many records each sink delivered, and how many failed
 * and why. Sink names are only known in the worker, so they cannot be fixed
 * slots in COUNTER_NAMES; they live in a region of their own at the END of the
 * shared buffer (whatever regions come before it), which the worker fills and
 * the app reads:
 *
 *   [ ... other regions ... ][ magic | count | entry 0 | entry 1 | ... entry MAX_SINKS-1 ]
 *   entry = name (NAME_BYTES of UTF-8, NUL-padded) | delivered | failed_<reason> for each SINK_FAIL_REASONS
 *
 * Owners: createStats() writes `magic` once (so a buffer without the region is
 * never misread); the worker writes everything else; the app only loads.
 * A sink's counters may be a publish behind its name: read the name, then the numbers.
 */

/** Why a sink failed records: its own answer (rejected/unavailable) or how the pipeline judged the call. */
export const SINK_FAIL_REASONS = ['rejected', 'unavailable', 'error', 'timeout', 'invalid_result', 'overflow', 'exit_timeout'] as const
export type SinkFailReason = (typeof SINK_FAIL_REASONS)[number]
/** The counts of an entry in the order its slots hold them, made once: a key built per publish costs more than the store. */
const COUNT_KEYS = ['delivered', ...SINK_FAIL_REASONS.map((reason) => `failed_${reason}` as const)] as const

export const MAX_SINKS = 16
const NAME_BYTES = 32
const NAME_SLOTS = NAME_BYTES / 8
const ENTRY_SLOTS = NAME_SLOTS + 1 + SINK_FAIL_REASONS.length
const HEADER_SLOTS = 2
/** 'sluice:s' in ASCII: marks a buffer that has the sink region. */
const MAGIC = 0x736c756963653a73n

export const SINK_REGION_SLOTS = HEADER_SLOTS + MAX_SINKS * ENTRY_SLOTS

/** One sink's counts, named like the counters: `delivered`, `failed` (the sum) and `failed_<reason>`. */
export type SinkStats = { delivered: number; failed: number } & Record<`failed_${SinkFailReason}`, number>

export type SinkStatsMap = Record<string, SinkStats>

function emptyStats(): SinkStats {
  return { delivered: 0, failed: 0, ...(Object.fromEntries(SINK_FAIL_REASONS.map((r) => [`failed_${r}`, 0])) as Record<`failed_${SinkFailReason}`, number>) }
}

/** The region of `buffer`, when createStats() marked it; undefined for an old or foreign buffer. */
function regionOf(buffer: SharedArrayBuffer): BigInt64Array | undefined {
  const slots = Math.floor(buffer.byteLength / 8)
  if (slots < SINK_REGION_SLOTS) return undefined
  const region = new BigInt64Array(buffer, (slots - SINK_REGION_SLOTS) * 8, SINK_REGION_SLOTS)
  return Atomics.load(region, 0) === MAGIC ? region : undefined
}

/** App side: marks the trailing region of a fresh buffer as the sink region. */
export function markSinkRegion(buffer: SharedArrayBuffer): void {
  const slots = Math.floor(buffer.byteLength / 8)
  Atomics.store(new BigInt64Array(buffer, (slots - SINK_REGION_SLOTS) * 8, SINK_REGION_SLOTS), 0, MAGIC)
}

/** App side: the per-sink counters the worker published (empty before it started, or without the region). */
export function readSinkRegion(buffer: SharedArrayBuffer): SinkStatsMap {
  const region = regionOf(buffer)
  const out: SinkStatsMap = {}
  if (!region) return out
  const count = Math.min(Number(Atomics.load(region, 1)), MAX_SINKS)
  const decoder = new TextDecoder()
  for (let i = 0; i < count; i++) {
    const base = HEADER_SLOTS + i * ENTRY_SLOTS
    const nameBytes = new Uint8Array(NAME_BYTES)
    const view = new DataView(nameBytes.buffer)
    for (let s = 0; s < NAME_SLOTS; s++) view.setBigInt64(s * 8, Atomics.load(region, base + s), true)
    const end = nameBytes.indexOf(0)
    const name = decoder.decode(end === -1 ? nameBytes : nameBytes.subarray(0, end))
    const stats = emptyStats()
    stats.delivered = Number(Atomics.load(region, base + NAME_SLOTS))
    SINK_FAIL_REASONS.forEach((reason, r) => {
      const n = Number(Atomics.load(region, base + NAME_SLOTS + 1 + r))
      stats[`failed_${reason}`] = n
      stats.failed += n
    })
    out[name] = stats
  }
  return out
}

/** Worker side: plain numbers bumped by the sink runners, copied to the region on publish(). */
export class SinkCounters {
  private readonly entries = new Map<string, SinkStats>()
  /** The store of record: its failures are already the `failed_*` counters. */
  private readonly stores = new Set<string>()
  private readonly region: BigInt64Array | undefined
  /** What each count slot last received (NaN: never), so publish() stores only what moved. */
  private readonly published = new Float64Array(MAX_SINKS * COUNT_KEYS.length).fill(Number.NaN)

  constructor(buffer?: SharedArrayBuffer) {
    this.region = buffer ? regionOf(buffer) : undefined
  }

  /** Registers a sink (in the order they run); names past MAX_SINKS are counted but not shared. */
  register(name: string, isStore = false): void {
    if (isStore) this.stores.add(name)
    if (this.entries.has(name)) return
    this.entries.set(name, emptyStats())
    const region = this.region
    const index = this.entries.size - 1
    if (!region || index >= MAX_SINKS) return
    const base = HEADER_SLOTS + index * ENTRY_SLOTS
    const nameBytes = new Uint8Array(NAME_BYTES)
    nameBytes.set(new TextEncoder().encode(name).subarray(0, NAME_BYTES))
    const view = new DataView(nameBytes.buffer)
    for (let s = 0; s < NAME_SLOTS; s++) Atomics.store(region, base + s, view.getBigInt64(s * 8, true))
    // The count goes last, so a reader never sees an entry without its name.
    Atomics.store(region, 1, BigInt(Math.min(this.entries.size, MAX_SINKS)))
  }

  delivered(name: string, amount: number): void {
    const entry = this.entries.get(name)
    if (entry && amount > 0) entry.delivered += amount
  }

  fail(name: string, reason: SinkFailReason, amount: number): void {
    const entry = this.entries.get(name)
    if (!entry || amount <= 0) return
    entry[`failed_${reason}`] += amount
    entry.failed += amount
  }

  get size(): number {
    return this.entries.size
  }

  publish(): void {
    const region = this.region
    if (!region) return
    const published = this.published
    let index = 0
    for (const stats of this.entries.values()) {
      if (index >= MAX_SINKS) break
      const base = HEADER_SLOTS + index * ENTRY_SLOTS + NAME_SLOTS
      const mine = index * COUNT_KEYS.length
      for (let r = 0; r < COUNT_KEYS.length; r++) {
        const value = stats[COUNT_KEYS[r] as (typeof COUNT_KEYS)[number]]
        if (published[mine + r] === value) continue
        published[mine + r] = value
        Atomics.store(region, base + r, BigInt(value))
      }
      index++
    }
  }

  /** Sinks other than the store of record that failed records: losses the record accounting does not show. */
  lossesBesideTheStore(): [string, SinkStats][] {
    return [...this.entries].filter(([name, stats]) => stats.failed > 0 && !this.stores.has(name))
  }

  snapshot(): SinkStatsMap {
    const out: SinkStatsMap = {}
    for (const [name, stats] of this.entries) out[name] = { ...stats }
    return out
  }
}
