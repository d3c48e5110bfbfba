import type { RingWriter } from './ring-writer.js'

/** How long a line may wait in the ring for the worker to be woken, when the ring is nearly empty. */
export const DOORBELL_DELAY_MS = 1
/** Unread bytes at which a sleeping worker is woken at once (a burst in one turn must not fill the ring first). */
export const WAKE_NOW_BYTES = 64 * 1024

/**
 * Decides when the app thread wakes a sleeping worker (issue 25). Ringing on
 * every line a sleeping worker misses cost a futex wake on the app thread and
 * a sleep/wake cycle in the worker per request in a service, where lines come
 * one at a time. So a write to a sleeping worker only arms a timer: all the
 * lines written until it fires cost one doorbell and one wake, and the worker
 * then drains them all before it sleeps again. The worst added latency is
 * `delayMs` (plus the timer's lateness); the batcher waits far longer anyway.
 *
 * A burst that reaches `wakeNowBytes` within one turn (a tight loop, where no
 * timer can fire) rings at once, so the worker drains while the app writes.
 * The timer is unref'd, so it never keeps the process alive: flush(), close()
 * and process exit do not depend on it (the flush message and the CLOSE flag
 * make the worker read the ring whether it was woken or not).
 */
export class Doorbell {
  private pending = false
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly writer: RingWriter,
    private readonly delayMs = DOORBELL_DELAY_MS,
    private readonly wakeNowBytes = WAKE_NOW_BYTES,
  ) {}

  /** Called after each line written into the ring: one atomic load while the worker is awake. */
  afterWrite(): void {
    const writer = this.writer
    if (!writer.workerIdle()) return
    if (writer.unreadBytes() >= this.wakeNowBytes) writer.wake()
    else if (!this.pending) this.arm()
  }

  private arm(): void {
    this.pending = true
    // One Timeout for the life of the ring, re-armed: nothing is allocated per doorbell.
    if (this.timer) this.timer.refresh()
    else this.timer = setTimeout(this.ring, this.delayMs).unref()
  }

  private readonly ring = (): void => {
    this.pending = false
    // Woken meanwhile (a burst, a close) or drained through a flush: nothing to ring for.
    if (this.writer.workerIdle() && this.writer.unreadBytes() > 0) this.writer.wake()
  }
}
