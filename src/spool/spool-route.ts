import type { Counters } from '../counters/counters.js'
import { RING_FORMAT } from './frame.js'
import { seqRuns } from './seq-runs.js'
import type { AppendResult, Spool } from './spool.js'

/** How long replay stays out of the way after the ring pump's last spill under pressure. */
const PRESSURE_HOLD_MS = 250

/**
 * Where the pipeline sends what memory cannot hold while a spool is on, and
 * what it knows of the store of record's health. It owns the spool counters:
 * the spool's own tallies are copied into them on every publish.
 *
 *   received + recovered == written + dropped + failed + spool_records
 */
export class SpoolRoute {
  /** A batch just spent its whole retry budget, or a replay found the store still down. */
  private storeDown = false
  private wakeReplay: (() => void) | undefined
  /** Until then (epoch ms) the ring pump is spilling a burst: replay waits rather than compete for the worker. */
  private pressureUntil = 0

  constructor(
    readonly spool: Spool,
    private readonly counters: Counters,
    /** This process's writer id: what its own frames carry. */
    readonly writerId: string,
  ) {
    this.publish()
  }

  /** While the store is known down and the spool holds records, new batches go to the spool without an attempt of their own. */
  get diverting(): boolean {
    return this.storeDown && this.counters.values.spool_records > 0
  }

  /**
   * Appends `lines` (raw, seqs `firstSeq`, `firstSeq + 1`, …) as one frame.
   * True when they are accounted for: spooled, or dropped as `spool_full`.
   * False when the disk refused them: the caller counts them as it would without a spool.
   */
  spill(lines: readonly string[], firstSeq: number, stagesRan = false): boolean {
    if (lines.length === 0) return true
    return this.accounted(this.spool.append(this.writerId, firstSeq, lines, stagesRan), lines.length)
  }

  /**
   * The lines of `seqs` (ascending, each one of `lines`' seqs: `firstSeq`,
   * `firstSeq + 1`, …), one frame per run of consecutive seqs (seq-runs.ts),
   * under `writerId`. Returns how many are accounted for (spooled, or
   * dropped as `spool_full`); the caller counts the rest as it would without a spool.
   */
  spillSeqs(lines: readonly string[], firstSeq: number, seqs: readonly number[], stagesRan: boolean, writerId = this.writerId): number {
    let accounted = 0
    for (const run of seqRuns(seqs)) {
      const from = run.first - firstSeq
      if (from < 0 || from + run.count > lines.length) continue
      const result = this.spool.append(writerId, run.first, lines.slice(from, from + run.count), stagesRan)
      if (this.accounted(result, run.count)) accounted += run.count
    }
    return accounted
  }

  /** Like `spill`, for `records` lines as the ring holds them, in parts (see frame.ts, RING_FORMAT). */
  spillRaw(records: number, parts: readonly Buffer[], firstSeq: number, underPressure = false): boolean {
    if (records === 0) return true
    // The replay parses on the worker's thread: during a burst the ring needs it more.
    if (underPressure) this.pressureUntil = Date.now() + PRESSURE_HOLD_MS
    return this.accounted(this.spool.appendRaw(this.writerId, firstSeq, records, parts, RING_FORMAT), records)
  }

  private accounted(result: AppendResult, records: number): boolean {
    if (result === 'failed') return false
    if (result === 'full') this.counters.drop('spool_full', records)
    this.publish()
    this.wakeReplay?.()
    return true
  }

  /** True while the ring pump spills a burst (and for PRESSURE_HOLD_MS after its last such spill). */
  get ringUnderPressure(): boolean {
    return Date.now() < this.pressureUntil
  }

  storeFailed(): void {
    this.storeDown = true
  }

  storeAnswered(): void {
    if (!this.storeDown) return
    this.storeDown = false
    this.wakeReplay?.()
  }

  get storeIsDown(): boolean {
    return this.storeDown
  }

  /** Resolves at the next spill or when the store answers again, or after `ms`. */
  untilWork(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.wakeReplay = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakeReplay = done
    })
  }

  /** Makes what is spooled durable (fsync): part of flush() and close(). */
  flush(): void {
    this.spool.flush()
  }

  /** Copies the spool's tallies into the counters (the caller publishes). */
  publish(): void {
    const stats = this.spool.stats()
    const counters = this.counters
    counters.set('spooled', stats.spooled)
    counters.set('replayed', stats.replayed)
    counters.set('recovered', stats.recovered)
    counters.set('spool_records', stats.records)
    counters.set('spool_bytes', stats.bytes)
    counters.set('spool_oldest_age_ms', stats.oldestAt === 0 ? 0 : Math.max(0, Date.now() - stats.oldestAt))
    counters.set('spool_corrupt_frames', stats.corruptFrames)
    counters.set('dropped_spool_corrupt', stats.lost)
  }
}
