/**
 * The CloudWatch metrics stage. It reads every batch (never changes or removes
 * a record), aggregates datapoints client-side and ships them in as few
 * PutMetricData calls as the API limits allow:
 *
 *   records ─► observeRecord ─► MetricIntake ─► MetricAggregator ─► queue ─► drain ─► PutMetricData
 *   counters ─► SelfMetrics ─┘   (limits, dims)   (per series+period,  (bounded,  (≤1000 datums,
 *                                                   cardinality guard)  drop-oldest) ≤1 MB, SDK retries)
 *
 * Sends happen every flushIntervalMs, as soon as 1000 aggregates are pending,
 * on transport.flush and on close. A failed send that is worth retrying
 * (Throttling, 5xx, timeout) merges its aggregates back into the next flush, at
 * most twice; then, or at exit, they count as `metrics_lost`.
 *
 * Datapoint accounting: every datapoint read ends as metrics_sent, metrics_invalid,
 * metrics_cardinality, metrics_dropped (stage off for lack of credentials, or the
 * send backlog overflowed) or metrics_lost (sends that finally failed).
 */
import { replayOrigin } from '../shared/write-origin.js'
import type { Counting } from '../shared/counting.js'
import type { LogRecord } from '../shared/log-record.js'
import { Deadline } from '../shared/deadline.js'
import type { Sink, SinkCallContext, SinkResult } from '../sink.js'
import { CloudWatchSender } from './cloudwatch-client.js'
import type { CloudWatchOptions } from './cloudwatch-options.js'
import { MetricAggregator, type Aggregate } from './metric-aggregator.js'
import { MetricIntake } from './metric-intake.js'
import { MAX_AGE_MS, MAX_DATUMS_PER_REQUEST } from './metric-limits.js'
import { buildRequests } from './put-requests.js'
import { observeRecord } from './record-metrics.js'
import { SelfMetrics } from './self-metrics.js'
import { problemReporter } from '../shared/problem-reporter.js'

/** Times an aggregate may come back after a failed send before it counts as lost. */
const MAX_RETURNS = 2
const MAX_NOTICES = 20

function datapoints(aggregates: readonly Aggregate[]): number {
  let n = 0
  for (const aggregate of aggregates) n += aggregate.histogram.count
  return n
}

export class MetricsStage implements Sink {
  readonly name = 'cloudwatch'
  /** Reading a batch is synchronous; sends run in the background, each bounded by `stop`. */
  readonly concurrent = true
  private readonly aggregator: MetricAggregator
  private readonly intake: MetricIntake
  private readonly self: SelfMetrics | undefined
  private readonly queue: Aggregate[][] = []
  private queued = 0
  private readonly maxQueued: number
  private draining: Promise<void> | undefined
  /** The last send round had a request fail: CloudWatch is down, slow or throttling. */
  private lastRoundFailed = false
  private timer: NodeJS.Timeout | undefined
  /** Passes at the end of the exit budget given to flush or close: sends in flight end, no retry starts. */
  private readonly stop = Deadline.never()
  private disabled = false
  /** One stderr line per distinct problem, a few at most: a dead CloudWatch must not flood stderr. */
  private readonly notices = problemReporter(MAX_NOTICES)

  constructor(
    private readonly options: CloudWatchOptions,
    private readonly counters: Counting,
    private readonly sender: CloudWatchSender = new CloudWatchSender(options),
  ) {
    this.aggregator = new MetricAggregator(options.storageResolution * 1000, options.maxSeries, counters, (batch) => {
      this.enqueue(batch)
      void this.round()
    })
    this.intake = new MetricIntake(options.defaultDimensions, this.aggregator, counters, (message) => this.notify(message))
    this.self = options.selfMetrics ? new SelfMetrics(counters, this.intake) : undefined
    // Room for two full periods of series waiting behind a slow CloudWatch.
    this.maxQueued = 2 * Math.max(options.maxSeries, MAX_DATUMS_PER_REQUEST)
  }

  start(): void {
    this.timer = setInterval(() => this.flushInBackground(), this.options.flushIntervalMs)
    this.timer.unref()
    // Checked at once so a missing credential is reported at startup, not at the first flush.
    void this.sender.unusable().then((why) => {
      if (why) this.disable(why)
    })
  }

  write(records: readonly LogRecord[], _context?: SinkCallContext): void {
    // Counted when the stages first saw them, before the store failed and they were spooled.
    if (this.disabled || replayOrigin(records)?.stagesRan) return
    const now = Date.now()
    for (const record of records) {
      try {
        observeRecord(record, this.intake, now)
      } catch {
        // A record we cannot read yields no metric; it still goes to Postgres untouched.
      }
    }
    this.self?.queueDepth(now)
  }

  stored(_result: Required<Omit<SinkResult, 'reason'>>, elapsedMs: number): void {
    if (!this.disabled) this.self?.flushLatency(elapsedMs, Date.now())
  }

  async flush(context: SinkCallContext): Promise<void> {
    this.stop.bringForward(context.deadline)
    this.cut()
    // transport.flush() means "committed to Postgres"; metrics are best effort. A
    // flush waits for the send at most one request timeout, and not at all while
    // CloudWatch is failing, so a dead endpoint cannot hold it for the SDK's retries.
    const sent = this.roundAfterCut()
    if (this.lastRoundFailed) return
    await Deadline.in(this.options.requestTimeoutMs).settles(sent)
  }

  async close(context: SinkCallContext): Promise<void> {
    clearInterval(this.timer)
    this.stop.bringForward(context.deadline)
    // A second round sends what a failed send merged back, if the budget allows.
    for (let round = 0; round <= MAX_RETURNS && !this.stop.signal.aborted && !this.disabled; round++) {
      this.cut()
      await this.roundAfterCut()
      if (this.aggregator.size === 0) break
    }
    this.lose(this.aggregator.take())
    for (const batch of this.queue.splice(0)) this.lose(batch)
    this.queued = 0
    this.stop.dispose()
    this.sender.close()
  }

  private flushInBackground(): void {
    if (this.disabled) return
    this.cut()
    // A round already running leaves the new batch for the next tick; nobody waits here.
    void this.round()
  }

  /** Moves pending aggregates (and the self-metrics of the moment) to the send queue. */
  private cut(): void {
    if (this.disabled) return
    this.self?.sample(Date.now())
    this.enqueue(this.aggregator.take())
  }

  private enqueue(batch: Aggregate[]): void {
    if (batch.length === 0) return
    this.queue.push(batch)
    this.queued += batch.length
    while (this.queued > this.maxQueued && this.queue.length > 1) {
      const oldest = this.queue.shift() as Aggregate[]
      this.queued -= oldest.length
      const points = datapoints(oldest)
      this.counters.add('metrics_dropped', points)
      this.notify('CloudWatch is not keeping up; dropped the oldest unsent metrics (counted in metrics_dropped)')
    }
  }

  /** One sender at a time: starts a send round of what is queued now, or joins the one running. */
  private round(): Promise<void> {
    if (!this.draining && this.queue.length > 0 && !this.disabled) {
      this.draining = this.sendQueued().finally(() => (this.draining = undefined))
    }
    return this.draining ?? Promise.resolve()
  }

  /**
   * Waits for one complete round that started after the caller's cut, so what
   * was pending is attempted once. Bounded: a round sends only the batches
   * queued when it started (a failing endpoint cannot keep a round, or a
   * flush, going forever).
   */
  private async roundAfterCut(): Promise<void> {
    if (this.draining) await this.draining
    await this.round()
  }

  private async sendQueued(): Promise<void> {
    // Past the exit budget no check is waited for: the sends below then end at once.
    const checked = await this.stop.race(this.sender.unusable())
    const why = checked.settled ? checked.value : undefined
    if (why) return this.disable(why)
    const batches = this.queue.splice(0)
    this.lastRoundFailed = false
    for (const [i, batch] of batches.entries()) {
      if (this.disabled) {
        // disable() already counted what was queued; these left the queue with this round.
        this.counters.add('metrics_dropped', batches.slice(i).reduce((n, b) => n + datapoints(b), 0))
        break
      }
      this.queued -= batch.length
      for (const request of buildRequests(batch, this.options.storageResolution, this.options.namespace)) {
        const result = await this.sender.put(request.datums, this.stop)
        if (result.ok) {
          this.counters.add('metrics_sent', datapoints(request.aggregates))
          continue
        }
        this.lastRoundFailed = true
        const retry = result.transient && !this.stop.signal.aborted
        this.notify(`PutMetricData failed, ${retry ? 'will retry at the next flush' : 'datapoints counted in metrics_lost'}: ${result.problem}`)
        for (const aggregate of request.aggregates) {
          if (retry && aggregate.returns < MAX_RETURNS && aggregate.periodStart > Date.now() - MAX_AGE_MS) this.aggregator.giveBack(aggregate)
          else this.lose([aggregate])
        }
      }
    }
  }

  private lose(aggregates: readonly Aggregate[]): void {
    const points = datapoints(aggregates)
    if (points > 0) this.counters.add('metrics_lost', points)
  }

  /** Turns the stage into a no-op: the rest of the pipeline keeps working. */
  private disable(why: string): void {
    if (this.disabled) return
    this.disabled = true
    clearInterval(this.timer)
    const held = datapoints(this.aggregator.take()) + this.queue.splice(0).reduce((n, batch) => n + datapoints(batch), 0)
    this.queued = 0
    if (held > 0) this.counters.add('metrics_dropped', held)
    this.notify(`CloudWatch metrics are off: ${why}. Logs keep flowing to Postgres.`)
  }

  private notify(message: string): void {
    this.notices(`cloudwatch: ${message}`)
  }
}
