import { ASIDE_SENT, CLOSE, CLOSED, DOORBELL, FRAME_HEADER_BYTES, READ_POS, WORKER_IDLE, WRITE_POS, frameBytes, usedBytes, type RingMemory } from './ring-layout.js'

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

  /** True once everything the app had written when it was at `writePos` has been read. */
  hasRead(writePos: number): boolean {
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
   * Like `read`, but copies the lines' UTF-8 bytes, each followed by a
   * newline, into `into` from `at`, without decoding them (the disk spool's
   * raw spill). Stops before `into` would overflow; when not even the first
   * line fits, returns 0 lines and in `needed` the bytes it takes.
   */
  readRaw(maxRecords: number, into: Buffer, at: number): { lines: number; end: number; needed: number } {
    const writePos = Atomics.load(this.state, WRITE_POS)
    let pos = this.readPos
    let taken = 0
    let end = at
    let needed = 0
    while (pos !== writePos && taken < maxRecords) {
      const offset = pos & this.mask
      const length = this.headers[offset >> 2] as number
      const payloadAt = (offset + FRAME_HEADER_BYTES) & this.mask
      let size = length
      if (length > 0 && this.bytes[(payloadAt + length - 1) & this.mask] === NEWLINE) size--
      if (end + size + 1 > into.length) {
        if (taken === 0) needed = size + 1
        break
      }
      const firstPart = Math.min(size, this.capacity - payloadAt)
      this.bytes.copy(into, end, payloadAt, payloadAt + firstPart)
      if (firstPart < size) this.bytes.copy(into, end + firstPart, 0, size - firstPart)
      into[end + size] = NEWLINE
      end += size + 1
      taken++
      pos = (pos + frameBytes(length)) | 0
    }
    if (pos !== this.readPos) {
      this.readPos = pos
      Atomics.store(this.state, READ_POS, pos)
    }
    return { lines: taken, end, needed }
  }

  /** Skips everything written so far (the exit budget ran out); returns how many lines that was. */
  discardAll(): number {
    const writePos = Atomics.load(this.state, WRITE_POS)
    let count = 0
    while (this.readPos !== writePos) {
      this.readPos = (this.readPos + frameBytes(this.headers[(this.readPos & this.mask) >> 2] as number)) | 0
      count++
    }
    Atomics.store(this.state, READ_POS, this.readPos)
    return count
  }

  /**
   * Sleeps until the app rings the doorbell, asks to close, or `timeoutMs`
   * passes. The idle flag is raised before the last look at the ring, so a
   * write that lands in between is either seen here or rings the bell.
   */
  async waitForLines(timeoutMs: number): Promise<void> {
    const bell = Atomics.load(this.state, DOORBELL)
    Atomics.store(this.state, WORKER_IDLE, 1)
    if (!this.isEmpty() || this.closeRequested()) {
      Atomics.store(this.state, WORKER_IDLE, 0)
      return
    }
    const waiting = Atomics.waitAsync(this.state, DOORBELL, bell, timeoutMs)
    if (waiting.async) await waiting.value
    Atomics.store(this.state, WORKER_IDLE, 0)
  }

  private decode(payloadAt: number, length: number): string {
    const end = payloadAt + length
    if (end <= this.capacity) return this.bytes.toString('utf8', payloadAt, end)
    const firstPart = this.capacity - payloadAt
    return Buffer.concat([this.bytes.subarray(payloadAt, this.capacity), this.bytes.subarray(0, length - firstPart)]).toString('utf8')
  }
}
