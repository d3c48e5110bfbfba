import type { Batcher } from '../batcher/batcher.js'
import type { BoundedChannel } from '../channel/bounded-channel.js'
import type { Counters } from '../counters/counters.js'
import type { ChannelOptions } from '../options/resolve-options.js'
import { peekLevel } from '../records/peek-level.js'
import type { SpoolRoute } from '../spool/spool-route.js'
import type { QueueGauges } from './queue-gauges.js'
import type { RecordSeqs } from './record-seqs.js'

/**
 * Where lines enter the pipeline: into the channel, to the spool, or counted
 * as dropped at the door. Never blocks; whoever feeds it (the thread-stream
 * stream, the ring pump) asks for room and waits for it instead.
 */
export class PipelineIntake {
  /** The disk spool, when on (issue 24): what memory cannot hold goes there instead of being dropped or failed. */
  spool: SpoolRoute | undefined
  private closed = false
  private roomWaiters: (() => void)[] = []

  constructor(
    private readonly options: ChannelOptions,
    private readonly maxRecordBytes: number,
    private readonly counters: Counters,
    private readonly channel: BoundedChannel,
    private readonly batcher: Batcher,
    private readonly seqs: RecordSeqs,
    private readonly gauges: QueueGauges,
  ) {}

  /**
   * Takes complete lines. Never blocks: lines that do not fit are dropped and
   * counted. `sizes` (UTF-8 bytes per line) spares measuring them again;
   * `alreadyReceived` says the app thread has counted them as received.
   */
  accept(lines: readonly string[], sizes?: readonly number[], alreadyReceived = false): void {
    const counters = this.counters
    const maxRecordBytes = this.maxRecordBytes
    if (!alreadyReceived) counters.add('received', lines.length)
    if (this.closed) {
      counters.drop('closed', lines.length)
      return
    }
    const channel = this.channel
    const refuseWhenFull = this.options.overflow === 'drop-newest'
    const { maxRecords } = this.options
    let highest = 0
    // With a spool, lines the channel refuses wait on disk instead of being dropped.
    const overflow: string[] | undefined = this.spool && refuseWhenFull ? [] : undefined
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      // A UTF-8 byte is at most one UTF-16 unit, so a line of more units is surely too large.
      if (line.length > maxRecordBytes) {
        counters.drop('too_large')
        continue
      }
      // During a burst into a full channel this is the common case: count it without measuring the line.
      if (refuseWhenFull && channel.length >= maxRecords) {
        if (overflow) overflow.push(line)
        else counters.drop('overflow')
        continue
      }
      const bytes = sizes?.[i] ?? Buffer.byteLength(line)
      if (bytes > maxRecordBytes) {
        counters.drop('too_large')
        continue
      }
      const dropped = channel.push(line, bytes)
      if (dropped > 0 && overflow) overflow.push(line)
      else if (dropped > 0) counters.drop('overflow', dropped)
      if (dropped === 0 || !refuseWhenFull) {
        const level = peekLevel(line)
        if (level > highest) highest = level
      }
    }
    if (overflow) this.spill(overflow, 'overflow')
    this.gauges.publish()
    this.batcher.queued(highest)
  }

  /**
   * How many more lines (of `bytes` at most) the channel takes now without
   * dropping: everything under drop-oldest, which makes room itself.
   */
  room(): { records: number; bytes: number } {
    const { maxRecords, maxBytes, overflow } = this.options
    if (overflow === 'drop-oldest' || this.closed) return { records: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER }
    return { records: maxRecords - this.channel.length, bytes: maxBytes - this.channel.bytes }
  }

  /** Resolves when the batcher next takes lines out of the channel (or the pipeline closes). */
  untilRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** The batcher took lines out of the channel: whoever waits for room may go on. */
  roomFreed(): void {
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** True while every new line would be dropped for overflow (drop-newest with a full channel). */
  refusesNewLines(): boolean {
    return !this.closed && !this.spool && this.options.overflow === 'drop-newest' && this.channel.length >= this.options.maxRecords
  }

  /** Counts lines refused while `refusesNewLines()`, given their UTF-8 sizes (LineSplitter.lineSizes): too large or overflow, as `accept` would. */
  refuse(lineSizes: readonly number[]): void {
    let tooLarge = 0
    for (const size of lineSizes) if (size > this.maxRecordBytes) tooLarge++
    this.counters.add('received', lineSizes.length)
    this.counters.drop('too_large', tooLarge)
    this.counters.drop('overflow', lineSizes.length - tooLarge)
    this.counters.publish()
  }

  /**
   * Appends raw lines (not yet parsed) to the spool, giving them the next
   * seqs; whatever the spool cannot take is dropped as `otherwise`. Returns
   * false (counting nothing) when there is no spool.
   */
  spill(lines: readonly string[], otherwise: 'overflow' | 'exit_timeout'): boolean {
    const spool = this.spool
    if (!spool) return false
    if (lines.length === 0) return true
    if (spool.spill(lines, this.seqs.next)) this.seqs.next += lines.length
    else this.counters.drop(otherwise, lines.length)
    return true
  }

  /** `spill` for `count` lines as the app's ring holds them, in views of its memory (the ring's raw spill). */
  spillRaw(count: number, parts: readonly Buffer[], underPressure = false): boolean {
    const spool = this.spool
    if (!spool) return false
    if (count === 0) return true
    if (spool.spillRaw(count, parts, this.seqs.next, underPressure)) this.seqs.next += count
    else this.counters.drop('overflow', count)
    return true
  }

  /** True while the store is known down and new batches go to the spool at once. */
  divertsToSpool(): boolean {
    return this.spool?.diverting ?? false
  }

  /** From now on lines are dropped as `closed`, and nobody waits for room any more. True the first time only. */
  shut(): boolean {
    if (this.closed) return false
    this.closed = true
    this.roomFreed()
    return true
  }
}
