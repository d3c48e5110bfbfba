/** Buffers kept for the next batches: the batches in flight, a half being retried, and one to encode into. */
const KEPT_BUFFERS = 4
/** What the kept buffers may add up to: a worker that once wrote big batches does not keep their memory for good. */
const KEPT_BYTES = 16 * 1024 * 1024
/** Sizes are rounded up to a power of two from here, so that a buffer fits the next batches of about the same size. */
const SMALLEST_BYTES = 64 * 1024

/**
 * Buffers for the batches' COPY text, used again once nothing can read them
 * any more. A batch's text is about its raw bytes (1–8 MiB in a burst), and a
 * new buffer each time is memory the OS maps afresh: a page fault per 4 KiB,
 * which costs 12–28 µs on the VMs we measure on (bench:profile prints it),
 * about 0.4 µs per record in the worker.
 */
export class CopyTextPool {
  private readonly kept: Buffer[] = []

  /** A buffer of at least `bytes`: a kept one that fits, or a new one. */
  take(bytes: number): Buffer {
    let best = -1
    for (let i = 0; i < this.kept.length; i++) {
      const length = (this.kept[i] as Buffer).length
      if (length >= bytes && (best < 0 || length < (this.kept[best] as Buffer).length)) best = i
    }
    if (best >= 0) return this.kept.splice(best, 1)[0] as Buffer
    return Buffer.allocUnsafe(bytes <= SMALLEST_BYTES ? SMALLEST_BYTES : 2 ** Math.ceil(Math.log2(bytes)))
  }

  /** Takes back a buffer nothing reads any more; when full, it keeps the larger ones, within KEPT_BYTES. */
  give(buffer: Buffer): void {
    let keptBytes = 0
    let smallest = -1
    for (let i = 0; i < this.kept.length; i++) {
      const length = (this.kept[i] as Buffer).length
      keptBytes += length
      if (smallest < 0 || length < (this.kept[smallest] as Buffer).length) smallest = i
    }
    if (this.kept.length < KEPT_BUFFERS && keptBytes + buffer.length <= KEPT_BYTES) {
      this.kept.push(buffer)
      return
    }
    const replaced = smallest < 0 ? 0 : (this.kept[smallest] as Buffer).length
    if (smallest >= 0 && replaced < buffer.length && keptBytes - replaced + buffer.length <= KEPT_BYTES) this.kept[smallest] = buffer
  }

  /** Buffers kept now (for tests). */
  get size(): number {
    return this.kept.length
  }
}

/**
 * One batch's text, shared by the batch and its halves, with a count of who
 * may still read it: the batch's owner until it settles, and each database
 * attempt until its transaction has ended (an attempt given up on at its
 * deadline may still be running). The last one out gives the buffer back.
 */
export class CopyTextLease {
  private holders = 1

  constructor(
    private readonly buffer: Buffer,
    private readonly pool: CopyTextPool,
  ) {}

  hold(): void {
    this.holders++
  }

  release(): void {
    if (this.holders <= 0) return
    if (--this.holders === 0) this.pool.give(this.buffer)
  }
}
