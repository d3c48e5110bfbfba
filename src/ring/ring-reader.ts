import { ASIDE_SENT, CLOSE, CLOSED, DOORBELL, FRAME_HEADER_BYTES, READ_POS, WORKER_IDLE, WORKER_WAKES, WRAPPED_AT, WRITE_POS, frameBytes, nextLapStart, usedBytes, type RingMemory } from './ring-layout.js'

const NEWLINE = 0x0a

/**
 * The worker's end of the ring (single consumer). It owns READ_POS: space is
 * handed back to the app only after the lines are copied out as strings.
 * Positions read from the other side can be late, never early: `isEmpty()`
 * may report an empty ring while the app is halfway through a write.
 */
export class RingReader {
  private readonly state: Int32Array
  private readonly bytes: Buffer
  private readonly headers: Int32Array
  private readonly capacity: number
  private readonly mask: number
  private readPos: number

  constructor(memory: RingMemory) {
    this.state = new Int32Array(memory.state)
    this.bytes = Buffer.from(memory.data)
    this.headers = new Int32Array(memory.data)
    this.capacity = memory.data.byteLength
    this.mask = this.capacity - 1
    this.readPos = Atomics.load(this.state, READ_POS)
  }

  isEmpty(): boolean {
    return Atomics.load(this.state, WRITE_POS) === this.readPos
  }

  /** Bytes written by the app and not yet read (frames with their headers): how full the ring is. */
  unreadBytes(): number {
    const writePos = Atomics.load(this.state, WRITE_POS)
    // After an early wrap the positions are a lap apart: the skipped bytes hold nothing to read.
    this.followWrap(writePos)
    return usedBytes(writePos, this.readPos)
  }

  /** The ring's size in bytes. */
  get capacityBytes(): number {
    return this.capacity
  }

  /** True once everything the app had written when it was at `writePos` has been read. */
  hasRead(writePos: number): boolean {
    this.followWrap(Atomics.load(this.state, WRITE_POS))
    // Read past it, the unsigned distance wraps to more than the ring holds.
    const unread = usedBytes(writePos, this.readPos)
    return unread === 0 || unread > this.capacity
  }

  /** How many lines the app has sent as messages instead (too big for the ring). */
  sentAside(): number {
    return Atomics.load(this.state, ASIDE_SENT)
  }

  closeRequested(): boolean {
    return Atomics.load(this.state, CLOSE) !== 0
  }

  /** Tells the app thread (which may be blocked in process exit) that everything is settled. */
  markClosed(): void {
    Atomics.store(this.state, CLOSED, 1)
    Atomics.notify(this.state, CLOSED)
  }

  /**
   * Copies out up to `maxRecords` lines (without their trailing newline),
   * stopping before `maxBytes` would be passed unless nothing was taken yet,
   * and appends them and their UTF-8 sizes to `lines` and `sizes`.
   * Returns how many were taken.
   */
  read(maxRecords: number, maxBytes: number, lines: string[], sizes: number[]): number {
    const writePos = Atomics.load(this.state, WRITE_POS)
    this.followWrap(writePos)
    let pos = this.readPos
    let taken = 0
    let bytes = 0
    while (pos !== writePos && taken < maxRecords) {
      const offset = pos & this.mask
      const length = this.headers[offset >> 2] as number
      const payloadAt = (offset + FRAME_HEADER_BYTES) & this.mask
      // pino ends every line with a newline; a record does not include it.
      let size = length
      if (length > 0 && this.bytes[(payloadAt + length - 1) & this.mask] === NEWLINE) size--
      if (taken > 0 && bytes + size > maxBytes) break
      bytes += size
      lines.push(size === 0 ? '' : this.decode(payloadAt, size))
      sizes.push(size)
      taken++
      pos = (pos + frameBytes(length)) | 0
    }
    if (pos !== this.readPos) {
      this.readPos = pos
      Atomics.store(this.state, READ_POS, pos)
    }
    return taken
  }

  /**
   * Hands the next lines to `take` as the ring holds them (each a u32 length,
   * the bytes, padding to 4), in one or two views of shared memory (two when
   * they wrap), stopping before `maxBytes` unless nothing was taken yet; the
   * space is given back to the app only after `take` returns, so it may write
   * the views out (the disk spool's raw spill: no copy, no decoding).
   * Returns how many lines.
   */
  takeRaw(maxRecords: number, maxBytes: number, take: (lines: number, parts: Buffer[]) => void): number {
    const writePos = Atomics.load(this.state, WRITE_POS)
    this.followWrap(writePos)
    let pos = this.readPos
    let taken = 0
    let bytes = 0
    while (pos !== writePos && taken < maxRecords) {
      const size = frameBytes(this.headers[(pos & this.mask) >> 2] as number)
      if (taken > 0 && bytes + size > maxBytes) break
      bytes += size
      taken++
      pos = (pos + size) | 0
    }
    if (taken === 0) return 0
    const from = this.readPos & this.mask
    const firstPart = Math.min(bytes, this.capacity - from)
    const parts = [this.bytes.subarray(from, from + firstPart)]
    if (firstPart < bytes) parts.push(this.bytes.subarray(0, bytes - firstPart))
    take(taken, parts)
    this.readPos = pos
    Atomics.store(this.state, READ_POS, pos)
    return taken
  }

  /** Skips everything written so far (the exit budget ran out); returns how many lines that was. */
  discardAll(): number {
    const writePos = Atomics.load(this.state, WRITE_POS)
    this.followWrap(writePos)
    let count = 0
    while (this.readPos !== writePos) {
      this.readPos = (this.readPos + frameBytes(this.headers[(this.readPos & this.mask) >> 2] as number)) | 0
      count++
    }
    Atomics.store(this.state, READ_POS, this.readPos)
    return count
  }

  /**
   * Sleeps until the app rings the doorbell, asks to close, or `rouse()` is
   * called. The idle flag is raised before the last look at the ring, so a
   * write that lands in between is either seen here or rings the bell.
   *
   * No timeout (issue 25): for a timed waitAsync V8 posts a delayed task,
   * which wakes this thread's event loop to be scheduled (an eventfd write and
   * read) and later fires, for nothing, as a libuv timer of its own: a second
   * sleep/wake cycle per doorbell in a service. A safety net that must look at
   * the ring now and then calls `rouse()` from a timer instead.
   */
  async waitForLines(): Promise<void> {
    const bell = Atomics.load(this.state, DOORBELL)
    Atomics.store(this.state, WORKER_IDLE, 1)
    if (!this.isEmpty() || this.closeRequested()) {
      Atomics.store(this.state, WORKER_IDLE, 0)
      return
    }
    const waiting = Atomics.waitAsync(this.state, DOORBELL, bell)
    if (waiting.async) {
      await waiting.value
      Atomics.add(this.state, WORKER_WAKES, 1)
    }
    Atomics.store(this.state, WORKER_IDLE, 0)
  }

  /** Ends a `waitForLines()` of this side's own, if one sleeps (nothing happens otherwise). */
  rouse(): void {
    Atomics.notify(this.state, DOORBELL)
  }

  /**
   * Jumps to the next lap when the app wrapped early where this side stands.
   * `writePos` must be loaded first: WRAPPED_AT is stored before the position
   * of the frame at the new lap, so only a position past ours proves that
   * frame is there (jumping on WRAPPED_AT alone could read a header not yet
   * written). The app wraps only at an empty ring, so the jump is only ever
   * at the reader's own position, never in the middle of a read.
   */
  private followWrap(writePos: number): void {
    if (writePos === this.readPos || Atomics.load(this.state, WRAPPED_AT) !== this.readPos) return
    this.readPos = nextLapStart(this.readPos, this.capacity)
    Atomics.store(this.state, READ_POS, this.readPos)
  }

  private decode(payloadAt: number, length: number): string {
    const end = payloadAt + length
    if (end <= this.capacity) return this.bytes.toString('utf8', payloadAt, end)
    const firstPart = this.capacity - payloadAt
    return Buffer.concat([this.bytes.subarray(payloadAt, this.capacity), this.bytes.subarray(0, length - firstPart)]).toString('utf8')
  }
}
