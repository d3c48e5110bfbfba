export type OverflowPolicy = 'drop-newest' | 'drop-oldest'

export interface ChannelLimits {
  /** Most records held at once. */
  maxRecords: number
  /** Most bytes (UTF-8 size of the raw lines) held at once. */
  maxBytes: number
  overflow: OverflowPolicy
}

/**
 * A fixed-capacity FIFO of raw log lines, bounded by record count and by
 * bytes. `push` never blocks and never grows past the limits: it reports how
 * many records the overflow policy discarded so the caller can count them.
 * Lines stay unparsed here, so an overflow costs no JSON work.
 */
export class BoundedChannel {
  private readonly lines: (string | undefined)[]
  private readonly sizes: Int32Array
  private head = 0
  private count = 0
  private byteCount = 0

  constructor(readonly limits: ChannelLimits) {
    this.lines = new Array<string | undefined>(limits.maxRecords)
    this.sizes = new Int32Array(limits.maxRecords)
  }

  get length(): number {
    return this.count
  }

  get bytes(): number {
    return this.byteCount
  }

  /**
   * Offers one line of `bytes` size. Returns the number of records dropped:
   * the offered line itself under `drop-newest`, the oldest ones under
   * `drop-oldest`. A line larger than `maxBytes` is always refused (1).
   */
  push(line: string, bytes: number): number {
    const { maxRecords, maxBytes, overflow } = this.limits
    if (bytes > maxBytes) return 1
    let dropped = 0
    if (this.count >= maxRecords || this.byteCount + bytes > maxBytes) {
      if (overflow === 'drop-newest') return 1
      while (this.count >= maxRecords || this.byteCount + bytes > maxBytes) {
        this.shiftOne()
        dropped++
      }
    }
    const tail = (this.head + this.count) % maxRecords
    this.lines[tail] = line
    this.sizes[tail] = bytes
    this.count++
    this.byteCount += bytes
    return dropped
  }

  /**
   * Removes up to `maxRecords` lines, stopping before `maxBytes` is passed (at
   * least one line is taken), with the size each line was queued with.
   */
  take(maxRecords: number, maxBytes: number): { lines: string[]; sizes: number[] } {
    const lines: string[] = []
    const sizes: number[] = []
    let bytes = 0
    while (this.count > 0 && lines.length < maxRecords) {
      const size = this.sizes[this.head] as number
      if (lines.length > 0 && bytes + size > maxBytes) break
      bytes += size
      sizes.push(size)
      lines.push(this.shiftOne())
    }
    return { lines, sizes }
  }

  private shiftOne(): string {
    const line = this.lines[this.head] as string
    this.lines[this.head] = undefined
    this.byteCount -= this.sizes[this.head] as number
    this.head = (this.head + 1) % this.limits.maxRecords
    this.count--
    return line
  }
}
