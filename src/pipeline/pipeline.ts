import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { Batcher } from '../batcher/batcher.js'
import { BoundedChannel } from '../channel/bounded-channel.js'
import type { Counters } from '../counters/counters.js'
import { maxRecordBytes, type ResolvedOptions } from '../options/resolve-options.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine, type ParseResult } from '../records/parse-line.js'
import { readLine } from '../records/read-line.js'
import { workerProfile } from '../../sinks/shared/worker-profile.js'
import { peekLevel } from '../records/peek-level.js'
import { dropNotice, type DropTally } from './drop-notice.js'
import type { FanOut } from './fan-out.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { exitBudget } from './exit-budget.js'
import type { SinkRunner } from './sink-runner.js'
import type { StageStep } from './stage-step.js'
import { NOTHING_STORED, storeFailReasons, storeOutcome, type StoreFailReasons, type StoreOutcome } from './store-of-record.js'
import type { SpoolRoute } from '../spool/spool-route.js'

const FORGED_PROOF_NOTICE =
  'a record carried a sluice_proof that this process did not make; it was stored as a plain log row, not as a span or metric. ' +
  "Either a logged object claimed to be one, or pino-sluice was imported after pino.transport() started its worker (import it first), or a pino formatter or redaction changed the span's fields."


/** A batch between leaving the channel and being counted. */
interface OpenBatch {
  /** Records still to be counted (a stage may have held some back, counted already). */
  records: number
  /** The stage that has the batch now; undefined once the store has it. Time spent there is the stage's, not the store's. */
  stage: string | undefined
  /** With a spool: the raw lines of its records and the first one's seq, to spool the batch if the store cannot take it. */
  readonly spillable: { lines: string[]; firstSeq: number } | undefined
  settled: boolean
  /** When the store got it (performance.now()), for the stages' `settled` timing. */
  writeStarted: number
}

/** Identifies this process's writer in every row: host, pid and a random part. */
export function newWriterId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/**
 * Lines in, settled records out. Owns the accounting: every line offered to
 * `accept` ends as exactly one of written, dropped (with reason) or failed
 * (with reason), and `counters` says which.
 */
export class Pipeline {
  readonly channel: BoundedChannel
  private readonly batcher: Batcher
  /** Every batch's deadline: never while running; brought forward to the drain's end when an exit starts. */
  private readonly exit = Deadline.never()
  /** Which failed_<reason> counters the store's rejected and unavailable records go to. */
  private readonly failReasons: StoreFailReasons
  private nextSeq = 1
  private closed = false
  private announced: DropTally | undefined
  private announcing = false
  private heapSampledAt = 0
  private readonly openBatches = new Set<OpenBatch>()
  /** The last batch was written: the database answers, so a final drop notice is worth trying on close. */
  private lastBatchWrote = false
  private roomWaiters: (() => void)[] = []
  private readonly maxRecordBytes: number
  private readonly report = problemReporter()
  /** The disk spool, when on (issue 24): what memory cannot hold goes there instead of being dropped or failed. */
  private spool: SpoolRoute | undefined

  constructor(
    private readonly options: ResolvedOptions,
    private readonly counters: Counters,
    /** The store of record's runner (role 'store'); its answer decides written and failed. */
    private readonly store: SinkRunner,
    private readonly stages: readonly StageStep[] = [],
    private readonly fanout?: FanOut,
  ) {
    this.channel = new BoundedChannel(options.channel)
    this.maxRecordBytes = maxRecordBytes(options)
    this.failReasons = storeFailReasons(options.store.kind)
    // As many batches as the store takes at once (options.store.batchesInFlight: Postgres's connections, plus one being parsed).
    this.batcher = new Batcher(this.channel, options.batch, (lines, sizes) => this.writeBatch(lines, sizes), options.store.batchesInFlight)
  }

  /** Once: a record claimed to be a span or metric with a proof this process did not make (sinks/shared/record-proof.ts). */
  private readonly reportForgedProof = problemReporter(1)

  /** Turns the spool on: set once, before start(). */
  useSpool(route: SpoolRoute): void {
    this.spool = route
  }

  /**
   * Appends raw lines (not yet parsed) to the spool, giving them the next
   * seqs; whatever the spool cannot take is dropped as `otherwise`. Returns
   * false (counting nothing) when there is no spool.
   */
  spill(lines: readonly string[], otherwise: 'overflow' | 'exit_timeout'): boolean {
    const spool = this.spool
    if (!spool) return false
    if (lines.length === 0) return true
    if (spool.spill(lines, this.nextSeq)) this.nextSeq += lines.length
    else this.counters.drop(otherwise, lines.length)
    return true
  }

  /** `spill` for `count` lines as the app's ring holds them, in views of its memory (the ring's raw spill). */
  spillRaw(count: number, parts: readonly Buffer[], underPressure = false): boolean {
    const spool = this.spool
    if (!spool) return false
    if (count === 0) return true
    if (spool.spillRaw(count, parts, this.nextSeq, underPressure)) this.nextSeq += count
    else this.counters.drop('overflow', count)
    return true
  }

  /** True while the store is known down and new batches go to the spool at once. */
  divertsToSpool(): boolean {
    return this.spool?.diverting ?? false
  }

  start(): void {
    void this.store.start(this.exit)
    for (const stage of this.stages) void stage.runner.start(this.exit)
    this.fanout?.start(this.exit)
  }

  /**
   * Takes complete lines. Never blocks: lines that do not fit are dropped and
   * counted. `sizes` (UTF-8 bytes per line) spares measuring them again;
   * `alreadyReceived` says the app thread has counted them as received.
   */
  accept(lines: readonly string[], sizes?: readonly number[], alreadyReceived = false): void {
    const counters = this.counters
    const maxRecordBytes = this.maxRecordBytes
    if (!alreadyReceived) counters.add('received', lines.length)
    if (this.closed) {
      counters.drop('closed', lines.length)
      return
    }
    const channel = this.channel
    const refuseWhenFull = this.options.channel.overflow === 'drop-newest'
    const { maxRecords } = this.options.channel
    let highest = 0
    // With a spool, lines the channel refuses wait on disk instead of being dropped.
    const overflow: string[] | undefined = this.spool && refuseWhenFull ? [] : undefined
    for (const [i, line] of lines.entries()) {
      // A UTF-8 byte is at most one UTF-16 unit, so a line of more units is surely too large.
      if (line.length > maxRecordBytes) {
        counters.drop('too_large')
        continue
      }
      // During a burst into a full channel this is the common case: count it without measuring the line.
      if (refuseWhenFull && channel.length >= maxRecords) {
        if (overflow) overflow.push(line)
        else counters.drop('overflow')
        continue
      }
      const bytes = sizes?.[i] ?? Buffer.byteLength(line)
      if (bytes > maxRecordBytes) {
        counters.drop('too_large')
        continue
      }
      const dropped = channel.push(line, bytes)
      if (dropped > 0 && overflow) overflow.push(line)
      else if (dropped > 0) counters.drop('overflow', dropped)
      if (dropped === 0 || !refuseWhenFull) {
        const level = peekLevel(line)
        if (level > highest) highest = level
      }
    }
    if (overflow) this.spill(overflow, 'overflow')
    this.publishQueue()
    this.batcher.queued(highest)
  }

  /**
   * How many more lines (of `bytes` at most) the channel takes now without
   * dropping: everything under drop-oldest, which makes room itself.
   */
  room(): { records: number; bytes: number } {
    const { maxRecords, maxBytes, overflow } = this.options.channel
    if (overflow === 'drop-oldest' || this.closed) return { records: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER }
    return { records: maxRecords - this.channel.length, bytes: maxBytes - this.channel.bytes }
  }

  /** Resolves when the batcher next takes lines out of the channel (or the pipeline closes). */
  untilRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** True while every new line would be dropped for overflow (drop-newest with a full channel). */
  refusesNewLines(): boolean {
    return !this.closed && !this.spool && this.options.channel.overflow === 'drop-newest' && this.channel.length >= this.options.channel.maxRecords
  }

  /** Counts lines refused while `refusesNewLines()`, given their UTF-8 sizes (LineSplitter.lineSizes): too large or overflow, as `accept` would. */
  refuse(lineSizes: readonly number[]): void {
    let tooLarge = 0
    for (const size of lineSizes) if (size > this.maxRecordBytes) tooLarge++
    this.counters.add('received', lineSizes.length)
    this.counters.drop('too_large', tooLarge)
    this.counters.drop('overflow', lineSizes.length - tooLarge)
    this.counters.publish()
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
    this.spool?.flush()
  }

  private async flushStages(): Promise<void> {
    await this.batcher.drain()
    await Promise.all(this.stages.map((stage) => stage.runner.flush(this.exit)))
    await this.fanout?.flush(this.exit)
    // What the stages just sent (metrics_sent, offloaded) must be readable when flush() resolves.
    this.counters.publish()
  }

  /**
   * Drains and commits within `exit.budgetMs`, everything included, phase by
   * phase as exit-budget.ts names them. Lines still queued when the drain
   * ends are dropped `exit_timeout`, and batches still in flight are cut off
   * (the store's cutOff: Postgres destroys its connections) and counted as
   * the store's unavailable. The reserve covers a last drop notice (only
   * while the store answers), the fan-out sinks' and stages' close and the
   * store's close (final stats row, connections).
   */
  async close(budgetMs = this.options.exit.budgetMs): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.roomFreed()
    const phases = exitBudget(budgetMs)
    this.stopRetryingAt(phases.drainEnd)
    if (!(await this.exit.settles(this.flushStages()))) {
      const left = this.channel.take(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).lines
      if (!this.spill(left, 'exit_timeout') && left.length > 0) this.counters.drop('exit_timeout', left.length)
      this.store.cutOff()
      await Deadline.at(phases.cutOffEnd).settles(this.batcher.drain())
      this.abandonOpenBatches()
    }
    this.batcher.stop()
    this.publishQueue()
    if (this.lastBatchWrote) {
      const notice = Deadline.at(phases.noticeEnd)
      await notice.settles(this.announceDrops(notice))
    }
    const stagesEnd = Deadline.at(phases.stagesCloseEnd)
    await Promise.all([
      stagesEnd.settles(Promise.all(this.stages.map((stage) => stage.runner.close(stagesEnd)))),
      // Not cut short: the fan-out bounds itself by the deadline it is given and counts what it could not deliver as it gets there.
      this.fanout?.close(Deadline.at(phases.fanoutCloseEnd)),
      this.closeStore(Deadline.at(phases.storeCloseEnd)),
    ])
    this.store.cutOff()
    this.publishQueue()
    workerProfile?.write()
  }

  /**
   * Batches that did not settle by the end of the budget (a late answer is
   * ignored): those the store had count as its unavailable (db_unavailable),
   * those a stage still had as failed_stage, naming the stage.
   */
  private abandonOpenBatches(): void {
    for (const batch of this.openBatches) {
      batch.settled = true
      if (batch.stage !== undefined) this.holdBack(batch, batch.stage, batch.records, 'the exit budget ran out while the stage had them')
      else if (batch.spillable?.lines.length === batch.records && this.spool?.spill(batch.spillable.lines, batch.spillable.firstSeq, true)) continue
      else this.counters.fail(this.failReasons.unavailable, batch.records)
    }
    this.openBatches.clear()
  }

  /** The store's close, bounded by the end of the budget; says so when it did not end in time. */
  private async closeStore(end: Deadline): Promise<void> {
    if (!(await end.settles(this.store.close(end)))) this.report(`store ${this.store.name}: close timed out (exit.budgetMs ran out)`)
  }

  private roomFreed(): void {
    const waiters = this.roomWaiters
    this.roomWaiters = []
    for (const resolve of waiters) resolve()
  }

  /**
   * Parses a batch and hands it to the stages and the store. Not async, and
   * the records are let go once the store has them: an async function keeps
   * its arguments and locals until it returns, and a batch waiting on the
   * database must not hold its lines and parsed records (see EncodedBatch).
   */
  private writeBatch(lines: string[], sizes: number[]): Promise<void> {
    this.roomFreed()
    // The store is known to be down: to the spool at once, unparsed, rather than each batch waiting a budget of its own.
    if (this.spool?.diverting && this.spool.spill(lines, this.nextSeq)) {
      this.nextSeq += lines.length
      this.publishQueue()
      return Promise.resolve()
    }
    const counters = this.counters
    const firstSeq = this.nextSeq
    const kept: string[] | undefined = this.spool ? [] : undefined
    const now = Date.now()
    let mark = workerProfile?.now() ?? 0
    workerProfile?.batchStarted(lines.length)
    const records: LogRecord[] = []
    let bytes = 0
    // Records only the Postgres store sees are scanned, not parsed (issue 25: read-line.ts).
    const read = this.options.store.kind === 'postgres' && this.stages.length === 0 && !this.fanout ? readLine : parseLine
    for (const [i, line] of lines.entries()) {
      let parsed: ParseResult
      try {
        parsed = read(line, sizes[i] as number, this.nextSeq, now)
      } catch {
        // Valid JSON that cannot be made storable (sanitizing a value nested deeper than the stack): counted, not lost with its batch.
        parsed = { ok: false }
      }
      if (!parsed.ok) {
        counters.drop('invalid_json')
        continue
      }
      this.nextSeq++
      kept?.push(line)
      if (parsed.sanitized) counters.add('sanitized')
      if (parsed.forged) this.reportForgedProof(FORGED_PROOF_NOTICE)
      if (parsed.usageInvalid) counters.add('usage_invalid', parsed.usageInvalid)
      bytes += parsed.record.bytes
      records.push(parsed.record)
    }
    this.publishQueue()
    const batch: OpenBatch = { records: records.length, stage: undefined, spillable: kept && { lines: kept, firstSeq }, settled: false, writeStarted: 0 }
    this.openBatches.add(batch)
    if (workerProfile) mark = workerProfile.add('parseMs', mark)
    const handToFanout = this.fanout?.reserve(this.exit)
    const staged = this.stages.length === 0 ? Promise.resolve(records) : this.runStages(records, batch, handToFanout)
    const stored = staged.then((kept) => {
      handToFanout?.(kept)
      workerProfile?.add('stagesMs', mark)
      batch.writeStarted = performance.now()
      // Nothing left to store, or counted already (the exit budget ran out while a stage had it).
      if (kept.length === 0 || batch.settled) return NOTHING_STORED
      return this.store.write(kept, this.exit).then(storeOutcome)
    })
    return this.settleBatch(batch, stored, bytes)
  }

  /**
   * Runs the stages in order, each on the records the one before kept. What
   * a stage holds back is counted here (failed_stage), naming it; so is a
   * batch a stage still had when the exit deadline passed: the store never
   * gets it, so the time the stage took is never blamed on the store.
   */
  private async runStages(records: LogRecord[], batch: OpenBatch, handToFanout: ((records: LogRecord[]) => void) | undefined): Promise<LogRecord[]> {
    let kept = records
    try {
      for (const stage of this.stages) {
        batch.stage = stage.name
        const verdict = await stage.process(kept, this.exit)
        if (batch.settled) return []
        if (verdict && verdict.keep.length < kept.length) {
          this.holdBack(batch, stage.name, kept.length - verdict.keep.length, verdict.why)
          kept = verdict.keep
        }
        if (stage.custom && this.exit.passed && kept.length > 0) {
          this.holdBack(batch, stage.name, kept.length, 'the exit budget ran out while the stage had them')
          return []
        }
      }
      batch.stage = undefined
      return kept
    } catch (error) {
      handToFanout?.([]) // frees the places this batch held
      throw error
    }
  }

  /** Records a stage kept from the store: failed_stage, one stderr line per stage and reason. */
  private holdBack(batch: OpenBatch, stage: string, count: number, why: string): void {
    batch.records -= count
    this.counters.fail('stage', count)
    this.counters.publish()
    this.report(`stage ${stage}: ${why}; records not stored, counted as failed_stage`)
  }

  /** Counts what the store says of a batch (unless the exit budget ran out first and counted it already). */
  private async settleBatch(batch: OpenBatch, stored: Promise<StoreOutcome>, bytes: number): Promise<void> {
    let outcome: StoreOutcome
    try {
      outcome = await stored
    } finally {
      this.openBatches.delete(batch)
    }
    // Counted already when the exit budget ran out before this batch settled.
    if (batch.settled) return
    batch.settled = true
    const counters = this.counters
    const result = { delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable }
    for (const stage of this.stages) stage.stored(result, performance.now() - batch.writeStarted)
    outcome = this.spillUnavailable(batch, outcome)
    this.lastBatchWrote = outcome.written > 0 && outcome.unavailable === 0
    counters.add('written', outcome.written)
    counters.fail(this.failReasons.rejected, outcome.rejected)
    counters.fail(this.failReasons.unavailable, outcome.unavailable)
    counters.add('batches')
    counters.publish()
    workerProfile?.batchEnded()
    // Not while the database is failing (part of the batch could not be written): the notice would only wait too.
    if (outcome.written > 0 && outcome.unavailable === 0 && bytes > 0) await this.announceDrops(this.exit)
  }

  /**
   * With a spool: a batch the store could take none of within its retry
   * budget goes to the spool instead of failing, and tells the spool the
   * store is down. (A batch written in part cannot say which records were
   * not: those fail as without a spool.)
   */
  private spillUnavailable(batch: OpenBatch, outcome: StoreOutcome): StoreOutcome {
    const spool = this.spool
    if (!spool) return outcome
    if (outcome.written > 0) spool.storeAnswered()
    // A stage that held records back (counted failed_stage) leaves a batch its lines no longer match: not spooled.
    const whole = outcome.unavailable > 0 && outcome.unavailable === batch.records && batch.spillable?.lines.length === batch.records
    // The stages ran: the frame says so, and replay does not count these records in them again.
    if (!whole || !spool.spill(batch.spillable!.lines, batch.spillable!.firstSeq, true)) return outcome
    spool.storeFailed()
    return { ...outcome, unavailable: 0 }
  }

  /** After a successful batch, one row tells readers of the table how many records were dropped or failed since the last notice. */
  private async announceDrops(deadline: Deadline): Promise<void> {
    // Batches run side by side; one notice at a time keeps each loss announced once.
    if (this.announcing) return
    const notice = dropNotice(this.counters, this.announced, this.nextSeq)
    if (!notice) return
    this.nextSeq++
    this.announcing = true
    try {
      // Not counted as the store's delivered: the notice is not an app record.
      const tally = await this.store.write([notice.record], deadline, false)
      if (tally.delivered === 1) this.announced = notice.tally
    } finally {
      this.announcing = false
    }
  }

  private publishQueue(): void {
    this.counters.set('queued_records', this.channel.length)
    this.counters.set('queued_bytes', this.channel.bytes)
    const now = Date.now()
    if (now - this.heapSampledAt >= 100) {
      this.heapSampledAt = now
      this.counters.set('worker_heap_bytes', getHeapStatistics().used_heap_size)
    }
    this.counters.publish()
  }
}
