import type { Sink, SinkCallContext, SinkResult, SinkRole } from '../../sinks/sink.js'
import type { Deadline } from '../../sinks/shared/deadline.js'
import type { SinkCounters } from '../counters/sink-counters.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { runAsSink } from './sink-context.js'
import { batchSeqs, describeAnswer, judge, type Judged } from './sink-answer.js'

/** What one batch became at one sink. Sums to the batch size. */
export interface SinkTally {
  delivered: number
  rejected: number
  unavailable: number
  /** Threw, rejected, passed its deadline, answered nonsense, or found its queue full. */
  broken: number
  /**
   * A store of record's word on which records were unavailable (SinkResult.unavailableSeqs), checked:
   * one seq of the batch per unavailable record, ascending. Absent when it said only how many.
   */
  unavailableSeqs?: readonly number[]
}

export interface RunnerSettings {
  readonly name: string
  readonly role: SinkRole
  /**
   * A sink without `concurrent` runs isolated: one call at a time in batch
   * order, each abandoned at `timeoutMs`, at most `maxQueued` batches
   * waiting. A `concurrent` sink keeps its own concurrency and deadlines.
   */
  readonly timeoutMs?: number
  readonly maxQueued?: number
  /** Loaded from options.sinks: its calls run in its own async context, so what it leaves running is named when it fails (sink-context.ts). */
  readonly custom?: boolean
}

/** What an isolated sink gets when its settings name no limit (custom sinks always have theirs from options.sinks). */
const DEFAULT_TIMEOUT_MS = 10_000

const EMPTY_TALLY: SinkTally = Object.freeze({ delivered: 0, rejected: 0, unavailable: 0, broken: 0 })

type Outcome<T> = { ok: true; value: T } | { ok: false; why: 'timeout' | 'error'; message: string }

/**
 * Drives one Sink for the pipeline, whatever its role, and counts what it
 * did with every batch (`sinks.<name>.delivered/failed`). Nothing a sink
 * does (throw, reject, hang, answer nonsense) escapes this class: it becomes
 * a count and one stderr line. Every call gets a child of the deadline it is
 * given (the pipeline's exit deadline), so when an exit brings that forward,
 * every call in flight follows at once. Custom sinks run in their own async
 * context (sink-context.ts), so what they leave running is named when it fails.
 */
export class SinkRunner {
  private queue: Promise<unknown> = Promise.resolve()
  /** Batches waiting for their turn (not the one being written). */
  private waiting = 0
  /** The cut of every batch not settled yet, so flush() can bound them all. */
  private readonly unsettled = new Set<Deadline>()
  /** Isolated (no `concurrent`): one call at a time, each bounded by timeoutMs. */
  private readonly isolated: { readonly timeoutMs: number; readonly maxQueued: number } | undefined
  private started: Promise<string | undefined> | undefined
  /** Set while the sink's own start() runs on after its call passed its deadline: writes wait for nothing and fail. */
  private startPending = false
  private closing: Promise<void> | undefined

  constructor(
    readonly sink: Sink,
    readonly settings: RunnerSettings,
    private readonly counters: SinkCounters,
    private readonly report: (message: string) => void,
  ) {
    counters.register(settings.name, settings.role === 'store')
    this.isolated = sink.concurrent ? undefined : { timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxQueued: settings.maxQueued ?? Number.MAX_SAFE_INTEGER }
  }

  get name(): string {
    return this.settings.name
  }

  /**
   * Starts the sink in the background (isolated sinks: before their first
   * batch, without taking a batch's place). Never throws; resolves with why
   * start failed (undefined when it did not), so a store can fail at start.
   */
  start(exit: Deadline): Promise<string | undefined> {
    if (this.started) return this.started
    if (!this.sink.start) return (this.started = Promise.resolve(undefined))
    const run = (): Promise<string | undefined> =>
      this.call(exit, (context) => this.sink.start?.(context), (late) => {
        // The sink's start() goes on past its deadline: no write until it settles.
        this.startPending = true
        late.finally(() => (this.startPending = false)).catch(() => {})
      }).then((outcome) => {
        if (outcome.ok) return undefined
        const why = outcome.why === 'timeout' ? 'timed out' : `failed: ${outcome.message}`
        this.report(`sink ${this.name}: start ${why}`)
        return why
      })
    this.started = this.isolated ? this.enqueue(run, false) : run()
    return this.started
  }

  /**
   * Hands one batch to the sink and counts the answer. `count: false` for
   * rows that are not app records (the store's drop notices).
   */
  write(records: readonly LogRecord[], exit: Deadline, count = true): Promise<SinkTally> {
    return this.reserve(exit, count)(records)
  }

  /**
   * Takes a batch's place in this sink's queue now, before its records are
   * ready (a fan-out sink gets them after the stages), so batches reach the
   * sink in the order they were formed even when stages finish out of order.
   * The returned function hands the records over; call it exactly once.
   */
  reserve(exit: Deadline, count = true): (records: readonly LogRecord[]) => Promise<SinkTally> {
    const isolated = this.isolated
    if (!isolated) {
      return (records) => {
        const n = records.length
        return n === 0 ? Promise.resolve(EMPTY_TALLY) : this.writeNow(records, exit).then((judged) => this.tally(judged, n, count))
      }
    }
    let hand: (records: readonly LogRecord[]) => void = () => {}
    const ready = new Promise<readonly LogRecord[]>((resolve) => (hand = resolve))
    let settled: Promise<SinkTally>
    if (this.waiting >= isolated.maxQueued) {
      this.report(`sink ${this.name}: ${isolated.maxQueued} ${isolated.maxQueued === 1 ? 'batch' : 'batches'} already waiting; failing new ones as overflow until it catches up`)
      settled = ready.then((records) => (records.length === 0 ? EMPTY_TALLY : this.tally({ fail: 'overflow' }, records.length, count)))
    } else {
      // Brought forward by flush(): the batch's own limit, under the exit deadline.
      const cut = exit.narrow()
      this.unsettled.add(cut)
      settled = this.enqueue(async () => {
        const records = await ready
        if (records.length === 0) return EMPTY_TALLY
        const judged: Judged = exit.passed
          ? { fail: 'exit_timeout' }
          : cut.passed
            ? this.judgeOutcome({ ok: false, why: 'timeout', message: 'flush deadline' }, records.length)
            : this.startPending
              ? this.notStarted()
              : await this.writeNow(records, cut)
        return this.tally(judged, records.length, count)
      }).finally(() => {
        this.unsettled.delete(cut)
        cut.dispose()
      })
    }
    return (records) => {
      hand(records)
      return settled
    }
  }

  /**
   * Resolves once every batch given so far is counted. For an isolated sink
   * that takes `timeoutMs` at most, whatever it does: the batches still
   * waiting or being written then are counted as timeout, and the sink's own
   * flush() shares that limit.
   */
  async flush(exit: Deadline): Promise<void> {
    const cut = exit.narrow(this.isolated ? Date.now() + this.isolated.timeoutMs : Number.POSITIVE_INFINITY)
    try {
      for (const pending of this.unsettled) pending.bringForward(cut.at)
      await this.afterQueue()
      if (!this.sink.flush) return
      if (cut.passed) {
        this.report(`sink ${this.name}: flush timed out`)
        return
      }
      const outcome = await this.call(cut, (context) => this.sink.flush?.(context))
      if (!outcome.ok) this.report(`sink ${this.name}: flush ${outcome.why === 'timeout' ? 'timed out' : `failed: ${outcome.message}`}`)
    } finally {
      cut.dispose()
    }
  }

  close(exit: Deadline): Promise<void> {
    this.closing ??= this.closeOnce(exit)
    return this.closing
  }

  /** At the end of the exit budget: the sink settles its calls in flight now (Sink.cutOff). */
  cutOff(): void {
    try {
      this.sink.cutOff?.()
    } catch (error) {
      this.report(`sink ${this.name}: cutOff failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  private async closeOnce(exit: Deadline): Promise<void> {
    await this.afterQueue()
    if (!this.sink.close) return
    const outcome = await this.call(exit, (context) => this.sink.close?.(context))
    if (!outcome.ok) this.report(`sink ${this.name}: close ${outcome.why === 'timeout' ? 'timed out' : `failed: ${outcome.message}`}`)
  }

  /** One stderr line naming the sink, each distinct message once. */
  reportOnce(message: string): void {
    this.report(`sink ${this.name}: ${message}`)
  }

  private notStarted(): Judged {
    this.report(`sink ${this.name}: start() has not finished; batches fail as unavailable until it does`)
    return { fail: 'unavailable' }
  }

  /** Runs `job` after the ones before it; a job that hangs is abandoned by its own deadline, so the queue moves on. */
  private enqueue<T>(job: () => T | Promise<T>, isBatch = true): Promise<T> {
    if (isBatch) this.waiting++
    const run = this.queue.then(() => {
      if (isBatch) this.waiting--
      return job()
    })
    this.queue = run.catch(() => {})
    return run
  }

  /**
   * Waits for the queued writes. Bounded: each call ends by its deadline (a
   * child of the exit deadline, so it follows it when the pipeline closes), and a job that starts past the
   * exit deadline settles at once as exit_timeout, so every batch is counted
   * before close() returns.
   */
  private async afterQueue(): Promise<void> {
    await this.started
    await this.queue
  }

  /**
   * Not async, like `call`: neither holds the records once the sink has them
   * (the store of record keeps only its encoded batch while it waits on the database).
   */
  private writeNow(records: readonly LogRecord[], deadline: Deadline): Promise<Judged> {
    // Only the store of record's list of unavailable seqs is read (the spool takes those records); it is checked against these.
    const seqs = this.settings.role === 'store' ? batchSeqs(records) : undefined
    // The answer's callback is made in judgeFor: a closure made here would share this scope, records included.
    return this.call(deadline, (context) => this.sink.write(records, context)).then(this.judgeFor(records.length, seqs))
  }

  private judgeFor(n: number, seqs?: Float64Array): (outcome: Outcome<void | SinkResult>) => Judged {
    return (outcome) => this.judgeOutcome(outcome, n, seqs)
  }

  private judgeOutcome(outcome: Outcome<void | SinkResult>, n: number, seqs?: Float64Array): Judged {
    if (!outcome.ok) {
      this.report(`sink ${this.name}: write ${outcome.why === 'timeout' ? 'passed its deadline; batch counted as failed (timeout)' : `failed: ${outcome.message}`}`)
      return { fail: outcome.why }
    }
    const judged = judge(outcome.value, n, seqs)
    if ('fail' in judged) this.report(`sink ${this.name}: write answered ${describeAnswer(outcome.value)} for ${n} records; expected { delivered, rejected?, unavailable? } summing to the batch size`)
    else {
      if (judged.reason && judged.delivered < n) this.report(`sink ${this.name}: ${judged.reason}`)
      if (judged.unlisted) {
        this.report(
          `sink ${this.name}: write answered unavailableSeqs that are not one seq of the batch per unavailable record (${judged.unavailable}); ` +
            'the list is ignored and those records are counted failed, not spooled',
        )
      }
    }
    return judged
  }

  /**
   * One call into the sink with a deadline and an abort signal; a sync throw,
   * a rejection and a hang all come back as an Outcome. Not async: `fn` (and
   * the batch it closes over) is let go once it has run; only its result is awaited.
   */
  private call<T>(parent: Deadline, fn: (context: SinkCallContext) => T | Promise<T>, onAbandoned?: (late: Promise<T>) => void): Promise<Outcome<T>> {
    // A child of the exit deadline: when the pipeline closes and brings that forward, this call follows at once.
    const deadline = parent.narrow(this.isolated ? Date.now() + this.isolated.timeoutMs : Number.POSITIVE_INFINITY)
    const context = deadline.context()
    const name = this.settings.custom ? this.name : undefined
    // A custom sink in its own async context.
    const work = Promise.resolve().then(() => (name === undefined ? fn(context) : runAsSink(name, () => fn(context))))
    return this.settle(work, deadline, onAbandoned)
  }

  private async settle<T>(work: Promise<T>, deadline: Deadline, onAbandoned?: (late: Promise<T>) => void): Promise<Outcome<T>> {
    try {
      // A concurrent sink ends its own work at the deadline; only isolated ones are raced.
      if (!this.isolated) return { ok: true, value: await work }
      const raced = await deadline.race(work)
      if (raced.settled) return { ok: true, value: raced.value }
      onAbandoned?.(work) // abandoned: whatever it does later is ignored
      return { ok: false, why: 'timeout', message: 'deadline passed' }
    } catch (error) {
      return { ok: false, why: 'error', message: error instanceof Error ? error.message : String(error) }
    } finally {
      deadline.dispose()
    }
  }

  private tally(judged: Judged, n: number, count: boolean): SinkTally {
    const name = this.name
    if ('fail' in judged) {
      if (count) this.counters.fail(name, judged.fail, n)
    } else if (count) {
      this.counters.delivered(name, judged.delivered)
      this.counters.fail(name, 'rejected', judged.rejected)
      this.counters.fail(name, 'unavailable', judged.unavailable)
    }
    // Fan-out sinks settle after the batch was published: publish their counts themselves.
    if (count) this.counters.publish()
    if ('fail' in judged) return { delivered: 0, rejected: 0, unavailable: 0, broken: n }
    const tally: SinkTally = { delivered: judged.delivered, rejected: judged.rejected, unavailable: judged.unavailable, broken: 0 }
    if (judged.unavailableSeqs) tally.unavailableSeqs = judged.unavailableSeqs
    return tally
  }
}
