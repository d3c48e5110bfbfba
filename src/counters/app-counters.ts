import { APP_REGION_OFFSET, COUNTER_INDEX, DROP_REASONS, FAIL_REASONS, type CounterName } from './counter-names.js'

/**
 * The drops the app thread decides: no room in the ring, a line that can never fit, a sluice already closed,
 * a span the OTel processor could not hand to the logger.
 */
export type AppDropReason = 'overflow' | 'too_large' | 'closed' | 'span_level' | 'span_error'

/** How many counts may wait in plain numbers before they are published (a live reader lags by at most this). */
const PUBLISH_EVERY = 64

/**
 * The app thread's counters: what createSluice's ring received and dropped
 * before the worker saw it. Counting bumps plain numbers (a BigInt atomic per
 * line would cost more than the ring write itself); they reach the app's
 * region of the shared buffer every PUBLISH_EVERY counts and on `publish()`,
 * which flush, close, exit and `stats.read()` call first.
 */
export class AppCounters {
  private readonly shared: BigInt64Array
  private received = 0
  private readonly dropped: Record<AppDropReason, number> = { overflow: 0, too_large: 0, closed: 0, span_level: 0, span_error: 0 }
  /** Lines the worker had not settled when it died (the app thread counts them: the worker cannot). */
  private failedWorkerExit = 0
  private unpublished = 0

  constructor(buffer: SharedArrayBuffer) {
    this.shared = new BigInt64Array(buffer)
  }

  receive(): void {
    this.received++
    if (++this.unpublished >= PUBLISH_EVERY) this.publish()
  }

  drop(reason: AppDropReason): void {
    this.dropped[reason]++
  }

  publish(): void {
    this.unpublished = 0
    this.store('received', this.received)
    this.store('dropped_overflow', this.dropped.overflow)
    this.store('dropped_too_large', this.dropped.too_large)
    this.store('dropped_closed', this.dropped.closed)
    this.store('dropped_span_level', this.dropped.span_level)
    this.store('dropped_span_error', this.dropped.span_error)
    this.store('failed_worker_exit', this.failedWorkerExit)
  }

  /**
   * After the worker died: counts every line not yet written, dropped or
   * failed (in its hands, in the ring, sent aside) as failed_worker_exit, so
   * `received + recovered == written + dropped + failed + spool_records` holds
   * again; records the spool keeps are not lost (the next process replays
   * them). Reads both threads' regions: the worker's is final once it has
   * exited, as of its last publish, so a record it settled and had not
   * published yet counts here. Returns how many.
   */
  failUnsettled(): number {
    this.publish()
    const total = (name: CounterName): number =>
      Number(Atomics.load(this.shared, COUNTER_INDEX[name])) + Number(Atomics.load(this.shared, APP_REGION_OFFSET + COUNTER_INDEX[name]))
    let unsettled = total('received') + total('recovered') - total('written') - total('spool_records')
    for (const reason of DROP_REASONS) unsettled -= total(`dropped_${reason}`)
    for (const reason of FAIL_REASONS) unsettled -= total(`failed_${reason}`)
    if (unsettled <= 0) return 0
    this.failedWorkerExit += unsettled
    this.publish()
    return unsettled
  }

  private store(name: CounterName, value: number): void {
    Atomics.store(this.shared, APP_REGION_OFFSET + COUNTER_INDEX[name], BigInt(value))
  }
}
