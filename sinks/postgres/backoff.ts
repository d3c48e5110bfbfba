import type { Deadline } from '../shared/deadline.js'

export interface BackoffPolicy {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly budgetMs: number
}

/**
 * The time one batch may spend on the database: every attempt and every
 * backoff wait of the batch, and of the halves it is split into to isolate a
 * bad record, share it (halves do not start a fresh budget). It ends
 * `budgetMs` after `startedAt`, or at the pipeline's deadline (moved forward
 * on close) if that comes first.
 *
 * `startedAt` is the start of the outage when the database has been failing
 * since before the batch began: a long outage costs one budget, not one per
 * batch, so `flush()` settles within the budget.
 */
export class RetryWindow {
  readonly endsAt: number
  private delay: number
  /** Set once a transient failure found no time left: the rest of the batch is not attempted. */
  exhausted = false

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly deadline: Pick<Deadline, 'at'>,
    /** An attempt gets at least this long even at the end of the window (a connect timeout): a healthy server always gets one try. */
    private readonly minAttemptMs: number,
    startedAt = Date.now(),
  ) {
    this.endsAt = startedAt + policy.budgetMs
    this.delay = policy.initialDelayMs
  }

  /** Exponential backoff with full jitter: the delay to wait before the next attempt, or undefined when none fits. */
  next(): number | undefined {
    const now = Date.now()
    const wait = this.delay / 2 + Math.random() * (this.delay / 2)
    if (now + wait > this.endsAt || now + wait > this.deadline.at) {
      this.exhausted = true
      return undefined
    }
    this.delay = Math.min(this.delay * 2, this.policy.maxDelayMs)
    return wait
  }

  /** How long the next attempt may take (client-side cut and server-side statement/lock timeout); 0 or less: no time left. */
  attemptLimitMs(): number {
    const now = Date.now()
    if (this.exhausted) return 0
    return Math.min(Math.max(this.endsAt - now, this.minAttemptMs), this.deadline.at - now)
  }
}

/** Waits `ms`, or less when `signal` aborts (the sink is being cut off on exit). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
