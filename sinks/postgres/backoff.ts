import type { Deadline } from '../sink.js'

export interface BackoffPolicy {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly budgetMs: number
}

/**
 * Exponential backoff with full jitter, bounded by a total budget and by the
 * pipeline's deadline. `next()` returns the delay to wait, or undefined when
 * no retry fits any more.
 */
export class Backoff {
  private readonly startedAt = Date.now()
  private delay: number

  constructor(private readonly policy: BackoffPolicy, private readonly deadline: Deadline) {
    this.delay = policy.initialDelayMs
  }

  next(): number | undefined {
    const now = Date.now()
    const wait = this.delay / 2 + Math.random() * (this.delay / 2)
    if (now + wait > this.startedAt + this.policy.budgetMs || now + wait > this.deadline.at) return undefined
    this.delay = Math.min(this.delay * 2, this.policy.maxDelayMs)
    return wait
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
