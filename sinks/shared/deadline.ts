/**
 * One deadline type for every "until when may this take" in the worker: the
 * pipeline's exit deadline, a sink call's deadline, a flush's cut. It is a
 * point in time (`at`, epoch ms) with an AbortSignal aborted when it passes,
 * and `race(work)` waits for work until then at the latest.
 *
 * A deadline can be brought forward (the app exits: retries must end inside
 * the exit budget) but never pushed back: a signal once aborted stays
 * aborted. A child made by `narrow(at)` ends at its own `at` or its parent's,
 * whichever is first, and follows the parent when the parent is brought
 * forward, so one move of the exit deadline reaches every call in flight.
 * Later phases of an exit get deadlines of their own (src/pipeline/exit-budget.ts).
 */
import type { SinkCallContext } from '../sink.js'

/** What `race` resolves with: the work's value when it settled in time, else only that it did not. */
export type Raced<T> = { settled: true; value: T } | { settled: false }

/** setTimeout's limit (about 24.8 days): a later point is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class Deadline {
  private own: number
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private readonly children = new Set<Deadline>()

  private constructor(
    at: number,
    private readonly parent: Deadline | undefined,
    /** Read live on every `at`: a deadline that is someone else's (a sink's call context). */
    private readonly follow?: () => number,
  ) {
    this.own = at
    if (parent) {
      if (parent.signal.aborted) this.controller.abort(parent.signal.reason)
      else parent.children.add(this)
    }
    this.arm()
  }

  /** A deadline that passes at epoch ms `at` (Infinity: never, until brought forward). */
  static at(at: number): Deadline {
    return new Deadline(at, undefined)
  }

  /** A deadline that never passes unless brought forward. */
  static never(): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY, undefined)
  }

  /** A deadline `ms` from now. */
  static in(ms: number): Deadline {
    return new Deadline(Date.now() + ms, undefined)
  }

  /**
   * The deadline a sink was handed in its call context: follows
   * `context.deadline` (read again each time, it moves when the app exits) and
   * ends with `context.signal`. For sinks that want `race` on their own work.
   */
  static of(context: SinkCallContext): Deadline {
    const deadline = new Deadline(Number.POSITIVE_INFINITY, undefined, () => context.deadline)
    if (context.signal.aborted) deadline.expire()
    else context.signal.addEventListener('abort', () => deadline.expire(), { once: true })
    return deadline
  }

  /** Epoch ms: the earlier of this deadline's own point and its parent's. */
  get at(): number {
    const own = this.follow ? Math.min(this.own, this.follow()) : this.own
    const parent = this.parent?.at ?? Number.POSITIVE_INFINITY
    return own < parent ? own : parent
  }

  /** Aborted when `at` passes (or when brought forward to a point already past). */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  get passed(): boolean {
    return this.signal.aborted || Date.now() >= this.at
  }

  /** Ms left (0 once passed; Infinity while the deadline has no end). */
  get remainingMs(): number {
    return Math.max(0, this.at - Date.now())
  }

  /** A child deadline: at `at` or at this one, whichever comes first, following this one when it is brought forward. */
  narrow(at = Number.POSITIVE_INFINITY): Deadline {
    return new Deadline(at, this)
  }

  /** Moves the deadline earlier to `at` (never later); its children follow. */
  bringForward(at: number): void {
    if (at >= this.own) return
    this.own = at
    this.arm()
  }

  /** A child no longer needed (its call settled): its parent lets go of it and its timer stops. */
  dispose(): void {
    clearTimeout(this.timer)
    this.parent?.children.delete(this)
  }

  /**
   * Waits for `work` until the deadline at the latest. Resolves
   * `{ settled: true, value }` when it fulfilled in time, `{ settled: false }`
   * when the deadline came first (what the work does later is ignored, its
   * rejection included); rejects when the work rejected in time.
   * While it waits, a timer keeps the process alive until the deadline, so a
   * promise that never settles cannot end the thread early.
   */
  race<T>(work: Promise<T>): Promise<Raced<T>> {
    return new Promise<Raced<T>>((resolve, reject) => {
      let keepAlive: NodeJS.Timeout | undefined
      let done = false
      const signal = this.signal
      const finish = (): void => {
        done = true
        clearTimeout(keepAlive)
        signal.removeEventListener('abort', onAbort)
      }
      const onAbort = (): void => {
        if (done) return
        finish()
        resolve({ settled: false })
      }
      work.then(
        (value) => {
          if (done) return
          finish()
          resolve({ settled: true, value })
        },
        (error: unknown) => {
          if (done) return
          finish()
          reject(error instanceof Error ? error : new Error(String(error)))
        },
      )
      if (signal.aborted) {
        // Past already: work that has settled still gets its answer in (its callbacks run first).
        setImmediate(onAbort)
        return
      }
      signal.addEventListener('abort', onAbort, { once: true })
      const left = this.at - Date.now()
      if (Number.isFinite(left)) keepAlive = setTimeout(() => {}, Math.min(Math.max(0, left), MAX_TIMER_MS))
    })
  }

  /** True when `work` settled (fulfilled or rejected) by the deadline. */
  async settles(work: Promise<unknown>): Promise<boolean> {
    return (
      await this.race(
        work.then(
          () => undefined,
          () => undefined,
        ),
      )
    ).settled
  }

  /** The public face handed to a sink: `deadline` read live, and this deadline's signal. */
  context(): SinkCallContext {
    return contextOf(this)
  }

  /** (Re)schedules the abort for the current `at`; children re-arm too, since theirs may have moved with it. */
  private arm(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.signal.aborted) return
    const at = this.at
    if (Number.isFinite(at)) {
      const wait = at - Date.now()
      if (wait <= 0) return this.expire()
      this.timer = setTimeout(() => (Date.now() >= this.at ? this.expire() : this.arm()), Math.min(wait, MAX_TIMER_MS))
      // The deadline alone never keeps the thread alive; race() does while someone waits.
      this.timer.unref()
    }
    for (const child of this.children) child.arm()
  }

  private expire(): void {
    clearTimeout(this.timer)
    if (this.signal.aborted) return
    this.controller.abort(new Error('deadline passed'))
    for (const child of this.children) child.expire()
    this.children.clear()
    this.parent?.children.delete(this)
  }
}

/** Made here, not in a method: the context holds its deadline and nothing of the caller's scope (a batch, say). */
function contextOf(deadline: Deadline): SinkCallContext {
  return {
    get deadline() {
      return deadline.at
    },
    signal: deadline.signal,
  }
}
