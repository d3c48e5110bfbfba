import { describeError, isUnreachable } from './classify-error.js'
import { serverAddress } from './connection-string.js'

/**
 * Whether the database is failing, since when, and the operator's notices
 * about it: "cannot reach" once when an outage starts, "answers again" when
 * it ends. One budget per outage, not per batch: a batch that starts during
 * an outage gets only what is left of it (see RetryWindow).
 */
export class Outage {
  /** Since when the database has been failing; undefined while it answers. */
  private failingSince: number | undefined
  private toldUnreachable = false

  constructor(
    private readonly url: string,
    private readonly budgetMs: number,
    private readonly onProblem: (message: string) => void,
  ) {}

  get since(): number | undefined {
    return this.failingSince
  }

  /** The database failed with a transient error: an outage starts (or goes on). */
  failed(error: unknown): void {
    this.failingSince ??= Date.now()
    if (!this.toldUnreachable && isUnreachable(error)) {
      this.toldUnreachable = true
      const budget = Math.round(this.budgetMs / 1000)
      this.onProblem(
        `cannot reach the database at ${serverAddress(this.url)} (${describeError(error)}); records are held and retried for up to ${budget} s (postgres.retry.budgetMs), then counted failed_db_unavailable`,
      )
    }
  }

  /** The database answered: the outage, if any, is over. */
  answered(): void {
    this.failingSince = undefined
    if (this.toldUnreachable) {
      this.toldUnreachable = false
      this.onProblem(`the database at ${serverAddress(this.url)} answers again; writing resumed`)
    }
  }
}
