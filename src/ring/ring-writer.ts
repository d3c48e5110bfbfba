import { ASIDE_SENT, CLOSE, CLOSED, DOORBELL, FRAME_HEADER_BYTES, NO_WRAP, WORKER_IDLE, WORKER_WAKES, WRAPPED_AT, WRITE_POS, READ_POS, frameBytes, nextLapStart, usedBytes, type RingMemory } from './ring-layout.js'

/** What became of one line offered to the ring. */
export const WriteResult = {
  Written: 0,
  /** The ring has no room for it now. */
  Full: 1,
  /** Above the record limit: it can never be taken. */
  TooLarge: 2,
  /** Within the record limit but bigger than the whole ring: it has to go another way. */
  BiggerThanRing: 3,
} as const
export type WriteResult = (typeof WriteResult)[keyof typeof WriteResult]

/**
 * The app thread's end of the ring (single producer). `write` never waits and
 * allocates nothing in the common case: it encodes the string straight into
 * shared memory with Buffer#write and publishes the new position with one
 * atomic store. It never rings the doorbell itself: when to wake a sleeping
 * worker is the Doorbell's decision (src/ring/doorbell.ts), so that a turn's
 * worth of lines costs one wake, not one each.
 */
export class RingWriter {
  private readonly state: Int32Array
  private readonly bytes: Buffer
  private readonly headers: Int32Array
  private readonly capacity: number
  private readonly mask: number
  private writePos: number
  /** Where this side last wrapped early, until it sees the worker has followed (NO_WRAP then). */
  private wrappedAt = NO_WRAP
  /** For a payload that wraps past the end: encoded here, then copied in two parts. Grown on demand. */
  private scratch = Buffer.alloc(0)

  constructor(
    memory: RingMemory,
    private readonly maxRecordBytes: number,
  ) {
    this.state = new Int32Array(memory.state)
    this.bytes = Buffer.from(memory.data)
    this.headers = new Int32Array(memory.data)
    this.capacity = memory.data.byteLength
    this.mask = this.capacity - 1
    this.writePos = Atomics.load(this.state, WRITE_POS)
    this.wrappedAt = Atomics.load(this.state, WRAPPED_AT)
  }

  write(line: string): WriteResult {
    const units = line.length
    // A UTF-16 unit is at least one UTF-8 byte: more units than the limit is surely too large.
    if (units > this.maxRecordBytes) return WriteResult.TooLarge
    const readPos = this.readPosition()
    // Empty: start at offset 0 (the next lap) rather than where the last line ended, so only the high-water mark
    // of the ring is ever touched (ring-layout.ts). Decided here, published only with the frame.
    const empty = readPos === this.writePos
    const at = empty && (this.writePos & this.mask) !== 0 ? nextLapStart(this.writePos, this.capacity) : this.writePos
    const free = empty ? this.capacity : this.capacity - usedBytes(this.writePos, readPos)
    // During an overflow burst this is the common case: refused without measuring the line
    // (unless it could be over the record limit in bytes: then it is measured, to count it too_large).
    if (FRAME_HEADER_BYTES + units > free && frameBytes(units) <= this.capacity && 3 * units <= this.maxRecordBytes) return WriteResult.Full
    const offset = at & this.mask
    const payloadAt = offset + FRAME_HEADER_BYTES
    let length: number
    // Fast path: room for the worst case (3 bytes per unit) without wrapping, so no need to measure first.
    if (FRAME_HEADER_BYTES + 3 * units <= free && payloadAt + 3 * units <= this.capacity) {
      length = this.bytes.write(line, payloadAt, 'utf8')
      if (length > this.maxRecordBytes) return WriteResult.TooLarge
    } else {
      length = Buffer.byteLength(line, 'utf8')
      if (length > this.maxRecordBytes) return WriteResult.TooLarge
      if (frameBytes(length) > this.capacity) return WriteResult.BiggerThanRing
      if (frameBytes(length) > free) return WriteResult.Full
      if (payloadAt + length <= this.capacity) this.bytes.write(line, payloadAt, length, 'utf8')
      else this.writeWrapped(line, length, payloadAt)
    }
    if (at !== this.writePos) {
      // Before the position that makes the frame visible: a worker that sees the one sees the other.
      this.wrappedAt = this.writePos
      Atomics.store(this.state, WRAPPED_AT, this.writePos)
    }
    this.headers[offset >> 2] = length
    this.writePos = (at + frameBytes(length)) | 0
    Atomics.store(this.state, WRITE_POS, this.writePos)
    return WriteResult.Written
  }

  /**
   * True when the worker said it is going to sleep and nobody has woken it
   * since. Loaded after the write's position is published: a worker that
   * raised the flag later looks at the ring again before sleeping, so a line
   * is either seen by it or finds the flag up here.
   */
  workerIdle(): boolean {
    return Atomics.load(this.state, WORKER_IDLE) !== 0
  }

  /** Bytes written and not yet taken by the worker (late, never early). */
  unreadBytes(): number {
    return usedBytes(this.writePos, this.readPosition())
  }

  /** Doorbells rung and times the worker slept and woke, since the ring was made (for the bench). */
  activity(): { doorbells: number; workerWakes: number } {
    return { doorbells: Atomics.load(this.state, DOORBELL), workerWakes: Atomics.load(this.state, WORKER_WAKES) }
  }

  /** Wakes the worker if it sleeps: the Doorbell after writes, and to announce a close. */
  wake(): void {
    Atomics.store(this.state, WORKER_IDLE, 0)
    Atomics.add(this.state, DOORBELL, 1)
    Atomics.notify(this.state, DOORBELL)
  }

  /** Asks the worker to drain, commit and stop, and wakes it if it sleeps. */
  requestClose(): void {
    Atomics.store(this.state, CLOSE, 1)
    this.wake()
  }

  /**
   * Blocks this thread until the worker says it has settled everything, or
   * until the epoch ms `until`. Only for process exit, when the event loop is gone.
   */
  waitUntilClosed(until: number): void {
    for (let left = until - Date.now(); left > 0 && Atomics.load(this.state, CLOSED) === 0; left = until - Date.now()) {
      Atomics.wait(this.state, CLOSED, 0, left)
    }
  }

  /** True once the worker has said it settled everything (it may exit after that without losing a line). */
  workerClosed(): boolean {
    return Atomics.load(this.state, CLOSED) !== 0
  }

  /** Counts a line sent to the worker as a message instead (too big for the ring). */
  sentAside(): void {
    Atomics.add(this.state, ASIDE_SENT, 1)
  }

  /** Where the next frame will start: everything before it has been handed over. */
  get position(): number {
    return this.writePos
  }

  /**
   * The worker's position as far as free space goes. After an early wrap the
   * worker still stands where the app wrapped until it next reads; nothing
   * between there and the new lap is unread, so the new lap's start counts.
   * Once the worker has moved, WRAPPED_AT is cleared: positions recur every
   * 4 GiB, and a stale one must never send the worker jumping.
   */
  private readPosition(): number {
    const readPos = Atomics.load(this.state, READ_POS)
    if (this.wrappedAt === NO_WRAP) return readPos
    if (readPos === this.wrappedAt) return nextLapStart(readPos, this.capacity)
    this.wrappedAt = NO_WRAP
    Atomics.store(this.state, WRAPPED_AT, NO_WRAP)
    return readPos
  }

  private writeWrapped(line: string, length: number, payloadAt: number): void {
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, 2 * this.scratch.length))
    this.scratch.write(line, 0, length, 'utf8')
    // payloadAt may equal capacity (header in the last 4 bytes): then the first part is empty.
    const firstPart = this.capacity - payloadAt
    if (firstPart > 0) this.scratch.copy(this.bytes, payloadAt, 0, firstPart)
    this.scratch.copy(this.bytes, 0, firstPart, length)
  }
}
