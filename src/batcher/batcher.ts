import type { BoundedChannel } from '../channel/bounded-channel.js'
import type { BatchOptions } from '../options/resolve-options.js'

export interface BatchSink {
  /** Handles one batch of raw lines; resolves when every line in it is settled. */
  (lines: string[]): Promise<void>
}

/**
 * Decides when queued lines become a batch: when `maxRecords` or `maxBytes`
 * are queued, `intervalMs` after the first queued line, at once for a line at
 * or above `flushLevel`, and whenever someone waits on `drain()`. One batch
 * is in flight at a time; lines keep queuing in the channel meanwhile, which
 * is what bounds memory while the database is slow.
 */
export class Batcher {
  private timer: NodeJS.Timeout | undefined
  private urgent = false
  private draining = 0
  private running: Promise<void> | undefined

  constructor(
    private readonly channel: BoundedChannel,
    private readonly options: BatchOptions,
    private readonly sink: BatchSink,
  ) {}

  /** Called after lines were queued; `level` is the highest level among them. */
  queued(level: number): void {
    if (level >= this.options.flushLevel) this.urgent = true
    if (this.isDue()) this.kick()
    else this.timer ??= setTimeout(() => this.onTimer(), this.options.intervalMs)
  }

  /** Writes everything queued now and resolves when the channel has been emptied once. */
  async drain(): Promise<void> {
    this.draining++
    try {
      this.kick()
      while (this.running) await this.running
      // A batch may have started before our lines were queued; loop until empty.
      while (this.channel.length > 0) {
        this.kick()
        await this.running
      }
    } finally {
      this.draining--
    }
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private isDue(): boolean {
    const { length, bytes } = this.channel
    return length > 0 && (this.urgent || this.draining > 0 || length >= this.options.maxRecords || bytes >= this.options.maxBytes)
  }

  private onTimer(): void {
    this.timer = undefined
    this.urgent = true
    this.kick()
  }

  private kick(): void {
    if (this.running || this.channel.length === 0) return
    this.running = this.loop().finally(() => {
      this.running = undefined
      if (this.channel.length > 0) {
        if (this.isDue()) this.kick()
        else this.timer ??= setTimeout(() => this.onTimer(), this.options.intervalMs)
      }
    })
  }

  private async loop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    // Everything queued when the loop started is written; `urgent` covers the lines present now.
    this.urgent = false
    let remaining = this.channel.length
    while (remaining > 0 || this.isDue()) {
      const { lines } = this.channel.take(this.options.maxRecords, this.options.maxBytes)
      if (lines.length === 0) break
      remaining -= lines.length
      await this.sink(lines)
    }
  }
}
