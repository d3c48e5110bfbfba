/**
 * The worker's data path, one file per step:
 *
 *   accept ─▶ pipeline-intake.ts ─▶ channel ─▶ batcher ─▶ batch-writer.ts ─────────▶ counted
 *               │ too large, closed:                      parse, stages, fan-out,   │ then
 *               │ dropped                                 store, its answer         │ drop-announcer.ts
 *               └─▶ spool (when on) ◀─────────────────────────────────────────────────┘
 *                   channel full                          store down or unavailable
 *
 * pipeline-close.ts runs the exit budget's phases over the same parts;
 * queue-gauges.ts publishes what waits; record-seqs.ts numbers every record.
 */
import { Batcher } from '../batcher/batcher.js'
import { BoundedChannel } from '../channel/bounded-channel.js'
import type { Counters } from '../counters/counters.js'
import { maxRecordBytes, type ResolvedOptions } from '../options/resolve-options.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import type { SpoolRoute } from '../spool/spool-route.js'
import { BatchWriter } from './batch-writer.js'
import { DropAnnouncer } from './drop-announcer.js'
import type { FanOut } from './fan-out.js'
import { closePipeline } from './pipeline-close.js'
import { PipelineIntake } from './pipeline-intake.js'
import { QueueGauges } from './queue-gauges.js'
import { RecordSeqs } from './record-seqs.js'
import type { SinkRunner } from './sink-runner.js'
import type { StageStep } from './stage-step.js'

/**
 * Lines in, settled records out. Owns the accounting: every line offered to
 * `accept` ends as exactly one of written, dropped (with reason) or failed
 * (with reason), and `counters` says which. This class only wires the steps
 * together and is what the transports (src/transport/*) hold.
 */
export class Pipeline {
  readonly channel: BoundedChannel
  private readonly batcher: Batcher
  /** Every batch's deadline: never while running; brought forward to the drain's end when an exit starts. */
  private readonly exit = Deadline.never()
  private readonly gauges: QueueGauges
  private readonly intake: PipelineIntake
  private readonly writer: BatchWriter
  private readonly announcer: DropAnnouncer
  /** One stderr reporter for the pipeline: its limit on lines holds for all of them. */
  private readonly report = problemReporter()

  constructor(
    private readonly options: ResolvedOptions,
    private readonly counters: Counters,
    /** The store of record's runner (role 'store'); its answer decides written and failed. */
    private readonly store: SinkRunner,
    private readonly stages: readonly StageStep[] = [],
    private readonly fanout?: FanOut,
  ) {
    this.channel = new BoundedChannel(options.channel)
    this.gauges = new QueueGauges(counters, this.channel)
    const seqs = new RecordSeqs()
    this.announcer = new DropAnnouncer(counters, store, seqs)
    this.writer = new BatchWriter({
      counters,
      store,
      stages,
      fanout,
      storeKind: options.store.kind,
      exit: this.exit,
      seqs,
      roomFreed: () => this.intake.roomFreed(),
      publishQueue: () => this.gauges.publish(),
      announceDrops: (deadline) => this.announcer.announce(deadline),
      report: this.report,
    })
    // As many batches as the store takes at once (options.store.batchesInFlight: Postgres's connections, plus one being parsed).
    this.batcher = new Batcher(this.channel, options.batch, (lines, sizes) => this.writer.writeBatch(lines, sizes), options.store.batchesInFlight)
    this.intake = new PipelineIntake(options.channel, maxRecordBytes(options), counters, this.channel, this.batcher, seqs, this.gauges)
  }

  /** Turns the spool on: set once, before start(). Intake spills to it; the writer spools what the store cannot take. */
  useSpool(route: SpoolRoute): void {
    this.intake.spool = route
    this.writer.spool = route
  }

  start(): void {
    void this.store.start(this.exit)
    for (const stage of this.stages) void stage.runner.start(this.exit)
    this.fanout?.start(this.exit)
  }

  /** See PipelineIntake.accept: never blocks; what does not fit is counted. */
  accept(lines: readonly string[], sizes?: readonly number[], alreadyReceived = false): void {
    this.intake.accept(lines, sizes, alreadyReceived)
  }

  /** How many more lines the channel takes now without dropping (unbounded under drop-oldest). */
  room(): { records: number; bytes: number } {
    return this.intake.room()
  }

  /** Resolves when the batcher next takes lines out of the channel (or the pipeline closes). */
  untilRoom(): Promise<void> {
    return this.intake.untilRoom()
  }

  /** True while every new line would be dropped for overflow (drop-newest, full channel, no spool). */
  refusesNewLines(): boolean {
    return this.intake.refusesNewLines()
  }

  /** Counts lines refused while `refusesNewLines()`, as `accept` would have. */
  refuse(lineSizes: readonly number[]): void {
    this.intake.refuse(lineSizes)
  }

  /** Raw lines to the spool with the next seqs (false, counting nothing, without a spool). */
  spill(lines: readonly string[], otherwise: 'overflow' | 'exit_timeout'): boolean {
    return this.intake.spill(lines, otherwise)
  }

  /** `spill` for lines as the app's ring holds them. */
  spillRaw(count: number, parts: readonly Buffer[], underPressure = false): boolean {
    return this.intake.spillRaw(count, parts, underPressure)
  }

  /** True while the store is known down and new batches go to the spool at once. */
  divertsToSpool(): boolean {
    return this.intake.divertsToSpool()
  }

  /** Retries (of Postgres and the stages) end at `at` (epoch ms) instead of at their own budgets: an exit is under way. */
  stopRetryingAt(at: number): void {
    this.exit.bringForward(at)
  }

  /** Writes out every line queued now, without flushing the stages; resolves when they are settled. */
  drainQueued(): Promise<void> {
    return this.batcher.drain()
  }

  /**
   * Resolves when every line accepted so far is settled (committed, dropped or
   * failed), or once the store's flush limit (options.store.flushLimitMs:
   * for Postgres its retry budget plus one attempt's connect timeout) has
   * passed while it does not answer: what is still pending then shows in the
   * counters as queued or not yet settled.
   */
  async flush(): Promise<void> {
    await Deadline.in(this.options.store.flushLimitMs).settles(this.flushStages())
    // What the store could not take is in the spool by now: make it durable before flush() resolves.
    this.intake.spool?.flush()
  }

  /** Drains and closes within `budgetMs`, phase by phase: pipeline-close.ts. */
  close(budgetMs = this.options.exit.budgetMs): Promise<void> {
    return closePipeline(
      {
        exit: this.exit,
        counters: this.counters,
        channel: this.channel,
        batcher: this.batcher,
        intake: this.intake,
        writer: this.writer,
        gauges: this.gauges,
        announcer: this.announcer,
        store: this.store,
        stages: this.stages,
        fanout: this.fanout,
        report: this.report,
        flushStages: () => this.flushStages(),
      },
      budgetMs,
    )
  }

  private async flushStages(): Promise<void> {
    await this.batcher.drain()
    await Promise.all(this.stages.map((stage) => stage.runner.flush(this.exit)))
    await this.fanout?.flush(this.exit)
    // What the stages just sent (metrics_sent, offloaded) must be readable when flush() resolves.
    this.counters.publish()
  }
}
