import type { BoundedChannel } from '../channel/bounded-channel.js'
import type { BatchOptions } from '../options/resolve-options.js'

export interface BatchSink {
  /** Handles one batch of raw lines (and their UTF-8 sizes); resolves when every line in it is settled. */
  (lines: string[], sizes: number[]): Promise<void>
}

/**
 * Decides when queued lines become a batch: when `DUE_RECORDS` (or
 * `maxRecords`, if smaller) or `maxBytes` are queued, `intervalMs` after the
 * first queued line, at once for a line at or above `flushLevel`, and
 * whenever someone waits on `drain()`.
 *
 * A due batch takes everything queued, up to `maxRecords` and `maxBytes`:
 * batches follow the backlog. At a low rate they stay small and prompt; when
 * lines pile up while the database is busy, the next batch takes them all,
 * and fewer, larger transactions catch up faster (measured with
 * bench/profile-burst.ts: Postgres spends less CPU per row in 5000-row
 * transactions than in 1000-row ones, and the burst ends sooner). A channel
 * smaller than a batch counts as due when it is full (records), or half full
 * (bytes: whether the next line fits is unknown): otherwise a batch larger
 * than the channel would never become due and the channel would overflow
 * with an idle database (issue 17, item 5).
 *
 * Up to `maxInFlight` batches are handled at once, so the next batch is parsed
 * and encoded while the previous one waits on the database (measured: the
 * worker sat idle 59% of a burst with one batch in flight). Lines keep queuing
 * in the channel meanwhile, which is what bounds memory while the database is slow.
 */
/**
 * Queued records that make a batch due; larger batches form only from a backlog.
 * Each transaction has a fixed cost besides its rows (BEGIN, the COPY statement
 * routed into the partitioned table, the ledger row, COMMIT): about 1 ms of
 * server CPU and a few hundred µs of the worker's (issue 25). At 1000 it was
 * ~1 µs of server CPU per row at a service's 10-20k lines/s, 15-20% of the
 * server's cost of a row; at 4000 a quarter of that. The price is time to the
 * table, never beyond `intervalMs`: a line waits at most 4000/rate instead of
 * 1000/rate (200 vs 50 ms at 20k lines/s), and below 1000 lines/s nothing changes.
 */
export const DUE_RECORDS = 4000

export class Batcher {
  private timer: NodeJS.Timeout | undefined
  /** Lines that must go out whatever the size thresholds say (timer fired, urgent record). */
  private forced = 0
  private draining = 0
  private readonly inFlight = new Set<Promise<void>>()
  private readonly dueRecords: number
  private readonly dueBytes: number

  constructor(
    private readonly channel: BoundedChannel,
    private readonly options: BatchOptions,
    private readonly sink: BatchSink,
    private readonly maxInFlight = 1,
  ) {
    const limits = channel.limits
    this.dueRecords = Math.min(DUE_RECORDS, options.maxRecords, limits.maxRecords)
    this.dueBytes = options.maxBytes <= limits.maxBytes / 2 ? options.maxBytes : Math.floor(limits.maxBytes / 2)
  }

  /** Called after lines were queued; `level` is the highest level among them. */
  queued(level: number): void {
    if (level >= this.options.flushLevel) this.forceAll()
    this.kick()
  }

  /** Writes everything queued now and resolves when the channel is empty and no batch is in flight. */
  async drain(): Promise<void> {
    this.draining++
    try {
      this.kick()
      while (this.inFlight.size > 0 || this.channel.length > 0) {
        if (this.inFlight.size === 0) this.kick()
        await Promise.race(this.inFlight)
      }
    } finally {
      this.draining--
    }
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private forceAll(): void {
    this.forced = this.channel.length
  }

  private isDue(): boolean {
    const { length, bytes } = this.channel
    return length > 0 && (this.forced > 0 || this.draining > 0 || length >= this.dueRecords || bytes >= this.dueBytes)
  }

  /** Starts batches while they are due and there is room in flight; otherwise waits for the timer. */
  private kick(): void {
    while (this.inFlight.size < this.maxInFlight && this.isDue()) {
      const { lines, sizes } = this.channel.take(this.options.maxRecords, this.options.maxBytes)
      if (lines.length === 0) break
      this.forced = Math.max(0, this.forced - lines.length)
      const batch: Promise<void> = this.sink(lines, sizes).finally(() => {
        this.inFlight.delete(batch)
        this.kick()
      })
      this.inFlight.add(batch)
    }
    if (this.channel.length === 0 || this.isDue()) {
      clearTimeout(this.timer)
      this.timer = undefined
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        this.forceAll()
        this.kick()
      }, this.options.intervalMs)
    }
  }
}
