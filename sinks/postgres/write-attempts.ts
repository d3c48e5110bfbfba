import { attemptEnd } from './attempt-limit.js'
import type { RetryWindow } from './backoff.js'
import { classifyError, describeError, errorCode } from './classify-error.js'
import type { EncodedBatch } from './encoded-batch.js'

/** What became of one batch (or part of it) at the database. Sums to its size. */
export interface BatchOutcome {
  written: number
  rejected: number
  unavailable: number
  /** The seqs of the unavailable rows (SinkResult.unavailableSeqs), when there are any: the pipeline spools exactly those. */
  unavailableSeqs?: number[]
}

/** What the driver (write-batch.ts) does next. */
export type Step =
  /** Ask the commit ledger which of `batch`'s rows an earlier attempt committed, by `end` (epoch ms); answer `checked` or `failed`. */
  | { readonly do: 'check'; readonly batch: EncodedBatch; readonly end: number }
  /**
   * One transaction writing `batch` and its ledger row, ended by `end`; answer `inserted` or `failed`.
   * `tighten`: a retry sets the server's statement/lock timeout to what is left of the window.
   */
  | { readonly do: 'insert'; readonly batch: EncodedBatch; readonly end: number; readonly tighten: boolean }
  /** Back off `ms` (less when the sink stops); answer `waited`. */
  | { readonly do: 'wait'; readonly ms: number }
  /** Done: every record of the batch is counted once in `outcome`. */
  | { readonly do: 'settle'; readonly outcome: BatchOutcome }

/** What the last step came to. */
export type StepResult =
  | { readonly kind: 'inserted' }
  | { readonly kind: 'checked'; readonly uncommitted: EncodedBatch }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'waited' }

/** What a batch's attempts read (the window, whether the sink stops) and whom they tell. */
export interface AttemptContext {
  /** Shared by every attempt and wait of the batch and of the halves it is split into. */
  readonly window: RetryWindow
  /** Aborted when the sink stops (exit): no attempt starts any more. */
  readonly stopping: AbortSignal
  onRetry(): void
  onProblem(message: string): void
  onSpansWritten?(count: number): void
  /** The database answered: an outage, if any, is over. */
  answered(): void
  /** The database failed with a transient error: an outage starts or goes on. */
  failed(error: unknown): void
  /** The database refuses our writes whatever we send (permissions, a dropped table): the tables are prepared again before the next batch. */
  refused(): void
}

/** Rows still to write, cut from the batch by seq (the whole batch, or a half of a half…). */
interface Part {
  batch: EncodedBatch
  /**
   * An earlier attempt at these rows (or the batch they were cut from) ended
   * without an answer and may have committed, or may yet: the ledger is asked
   * before the next attempt.
   */
  unanswered: boolean
  attempts: number
}

/**
 * The retry loop of one batch as a state machine, without I/O: `first()`,
 * then `next(result of the last step)` until a `settle` step. The driver
 * (write-batch.ts) performs each step against the database.
 *
 * A transient failure is retried after a backoff within the window; an
 * attempt that got no answer makes the next one ask the commit ledger first
 * (it may have committed), and so does a `23505` (an earlier attempt's ledger
 * row: it committed while we retried). A check that fails is never taken for
 * bad data (the batch would be split unchecked and its halves could write
 * committed rows again). A batch refused for its data is split in halves,
 * depth first in seq order, until the records at fault are isolated. Once the
 * window runs out, or the sink stops, what is left counts as unavailable.
 */
export class WriteAttempts {
  private part: Part
  /** What the step last returned asked for. */
  private asked: Step['do'] = 'check'
  /** When the current attempt (the ledger check and the transaction) must end. */
  private end = 0
  /** The 23505 being checked against the ledger: the rows' own fault if the ledger has none of them. */
  private refusal: unknown
  /** Halves waiting their turn, the next on top. */
  private readonly todo: Part[] = []
  private written = 0
  private rejected = 0
  private unavailable = 0
  private readonly unavailableSeqs: number[] = []

  constructor(
    batch: EncodedBatch,
    /** A replay of records that may have committed before (an uncertain commit, a crash): the ledger is asked first. */
    uncertain: boolean,
    private readonly context: AttemptContext,
  ) {
    this.part = { batch, unanswered: uncertain, attempts: 0 }
  }

  first(): Step {
    return this.attempt()
  }

  next(result: StepResult): Step {
    switch (result.kind) {
      case 'waited':
        return this.attempt()
      case 'inserted':
        this.context.answered()
        this.context.onSpansWritten?.(this.part.batch.spans.length)
        this.written += this.part.batch.size
        return this.nextPart()
      case 'checked':
        return this.checked(result.uncommitted)
      case 'failed':
        return this.asked === 'insert' ? this.insertFailed(result.error) : this.checkFailed(result.error)
    }
  }

  /** The top of the loop: a new attempt at the current part, its ledger check first when an earlier one got no answer. */
  private attempt(): Step {
    if (this.context.stopping.aborted) return this.partUnavailable()
    // One limit for the whole attempt (the check and the transaction), so the last one ends near the window's end.
    this.end = attemptEnd(this.context.window)
    return this.part.unanswered ? this.check() : this.insert()
  }

  private check(): Step {
    this.asked = 'check'
    return { do: 'check', batch: this.part.batch, end: this.end }
  }

  private insert(): Step {
    const tighten = this.part.attempts > 0 || this.part.unanswered
    this.part.attempts++
    this.asked = 'insert'
    return { do: 'insert', batch: this.part.batch, end: this.end, tighten }
  }

  private checked(uncommitted: EncodedBatch): Step {
    const { batch } = this.part
    const refusal = this.refusal
    this.refusal = undefined
    const committed = batch.size - uncommitted.size
    this.written += committed
    const spans = batch.spans.length - uncommitted.spans.length
    if (spans > 0) this.context.onSpansWritten?.(spans)
    this.part.batch = uncommitted
    if (uncommitted.size === 0) return this.nextPart()
    if (refusal === undefined) return this.insert()
    // After a 23505: rows found committed explain it, and the rest is tried again; none found, the data is at fault.
    return committed > 0 ? this.attempt() : this.isolate(refusal)
  }

  private insertFailed(error: unknown): Step {
    const verdict = classifyError(error)
    if (verdict === 'record') {
      this.context.answered()
      // 23505 on the ledger's key (or the spans table's): an earlier attempt committed while we retried. Not bad data.
      if (errorCode(error) === '23505') {
        this.refusal = error
        this.end = attemptEnd(this.context.window)
        return this.check()
      }
      return this.isolate(error)
    }
    if (verdict === 'setup') return this.refused(error)
    // No answer: this attempt may have committed (or may yet), which the ledger tells before the next one.
    this.part.unanswered = true
    return this.backOff(error)
  }

  private checkFailed(error: unknown): Step {
    this.refusal = undefined
    if (classifyError(error) === 'setup') return this.refused(error)
    return this.backOff(error)
  }

  /** After a transient failure: a wait before the next attempt, or, with the window spent, the part counted unavailable. */
  private backOff(error: unknown): Step {
    this.context.failed(error)
    const wait = this.context.window.next()
    if (wait === undefined || this.context.stopping.aborted) {
      this.context.onProblem(`gave up on a batch after retries (postgres.retry.budgetMs): ${describeError(error)}`)
      return this.partUnavailable()
    }
    this.context.onRetry()
    this.asked = 'wait'
    return { do: 'wait', ms: wait }
  }

  private refused(error: unknown): Step {
    this.context.onProblem(
      `Postgres refuses the writes (${describeError(error)}); ${this.part.batch.size} records counted failed_db_unavailable. Check the connection string, permissions and tables.`,
    )
    this.context.refused()
    return this.partUnavailable()
  }

  /**
   * The low half starts at the part's first seq, so its ledger row waits on an earlier attempt still
   * committing; the high half runs after it, when that attempt is settled and in the ledger if it committed.
   * (Unless the low half never reaches its insert: data refused now that an earlier attempt was accepted,
   * which takes a schema change between the two.)
   */
  private isolate(error: unknown): Step {
    const { batch, unanswered } = this.part
    if (batch.size === 1) {
      this.context.onProblem(`record rejected by Postgres: ${describeError(error)}`)
      this.rejected += 1
      return this.nextPart()
    }
    const [low, high] = batch.halves()
    this.todo.push({ batch: high, unanswered, attempts: 0 }, { batch: low, unanswered, attempts: 0 })
    return this.nextPart()
  }

  private partUnavailable(): Step {
    this.giveUp(this.part.batch)
    return this.nextPart()
  }

  /** Rows left unwritten: counted unavailable, and named, so a spool can take exactly them. */
  private giveUp(batch: EncodedBatch): void {
    this.unavailable += batch.size
    for (const seq of batch.seqs()) this.unavailableSeqs.push(seq)
  }

  /** The next half waiting, or the outcome when none is. */
  private nextPart(): Step {
    for (let part = this.todo.pop(); part; part = this.todo.pop()) {
      // Once the window ran out on a transient failure, the rest of the batch is not attempted.
      if (this.context.window.exhausted) {
        this.giveUp(part.batch)
        continue
      }
      this.part = part
      return this.attempt()
    }
    const outcome: BatchOutcome = { written: this.written, rejected: this.rejected, unavailable: this.unavailable }
    if (this.unavailableSeqs.length > 0) outcome.unavailableSeqs = this.unavailableSeqs
    return { do: 'settle', outcome }
  }
}
