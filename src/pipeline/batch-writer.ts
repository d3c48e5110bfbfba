import type { Counters } from '../counters/counters.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import type { parseLine, ParseResult } from '../records/parse-line.js'
import { lineReader } from '../records/read-line.js'
import { workerProfile } from '../../sinks/shared/worker-profile.js'
import type { FanOut } from './fan-out.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'
import type { Deadline } from '../../sinks/shared/deadline.js'
import type { RecordSeqs } from './record-seqs.js'
import type { SinkRunner } from './sink-runner.js'
import type { StageStep } from './stage-step.js'
import { NOTHING_STORED, storeFailReasons, storeOutcome, type StoreFailReasons, type StoreOutcome } from './store-of-record.js'
import type { SpoolRoute } from '../spool/spool-route.js'
import type { StoreChoice } from '../options/sinks-options.js'

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

/** What a BatchWriter works with; the pipeline makes one of each and shares them. */
export interface BatchWriterParts {
  readonly counters: Counters
  /** The store of record's runner (role 'store'); its answer decides written and failed. */
  readonly store: SinkRunner
  readonly stages: readonly StageStep[]
  readonly fanout: FanOut | undefined
  /** Which store of record: only Postgres takes scanned records (read-line.ts). */
  readonly storeKind: StoreChoice['kind']
  /** Every batch's deadline: never while running; brought forward when an exit starts. */
  readonly exit: Deadline
  readonly seqs: RecordSeqs
  /** Wakes whoever waits for room in the channel: a batch just took lines out of it. */
  readonly roomFreed: () => void
  /** Publishes the channel's gauges with the counters. */
  readonly publishQueue: () => void
  /** Writes a drop notice row, if anything was lost since the last one. */
  readonly announceDrops: (deadline: Deadline) => Promise<void>
  /** The pipeline's stderr reporter: one limit on problem lines for the whole pipeline. */
  readonly report: (message: string) => void
}

/**
 * One batch of lines from the channel to settled records: parsed, through the
 * stages, handed to the fan-out, written by the store, and counted from the
 * store's answer (or spooled, when the store cannot take it). Owns the batches
 * in flight, so that close can count the ones the exit budget leaves open.
 */
export class BatchWriter {
  /** The disk spool, when on: set once, before the first batch. */
  spool: SpoolRoute | undefined
  private readonly counters: Counters
  private readonly store: SinkRunner
  private readonly stages: readonly StageStep[]
  private readonly fanout: FanOut | undefined
  /** How a line becomes a record: scanned when only the Postgres store sees it (issue 25: read-line.ts), else parsed. */
  private readonly read: typeof parseLine
  private readonly exit: Deadline
  /** Which failed_<reason> counters the store's rejected and unavailable records go to. */
  private readonly failReasons: StoreFailReasons
  private readonly seqs: RecordSeqs
  private readonly roomFreed: () => void
  private readonly publishQueue: () => void
  private readonly announceDrops: (deadline: Deadline) => Promise<void>
  private readonly openBatches = new Set<OpenBatch>()
  /** The last batch was written: the database answers, so a final drop notice is worth trying on close. */
  private lastBatchWrote = false
  private readonly report: (message: string) => void
  /** Once: a record claimed to be a span or metric with a proof this process did not make (sinks/shared/record-proof.ts). */
  private readonly reportForgedProof = problemReporter(1)

  constructor(parts: BatchWriterParts) {
    this.counters = parts.counters
    this.store = parts.store
    this.stages = parts.stages
    this.fanout = parts.fanout
    this.read = lineReader(parts.storeKind, parts.stages.length, parts.fanout !== undefined)
    this.exit = parts.exit
    this.failReasons = storeFailReasons(parts.storeKind)
    this.seqs = parts.seqs
    this.roomFreed = parts.roomFreed
    this.publishQueue = parts.publishQueue
    this.announceDrops = parts.announceDrops
    this.report = parts.report
  }

  /** The last batch settled was written whole: the store answers, so a last drop notice on close is worth its wait. */
  get storeAnswers(): boolean {
    return this.lastBatchWrote
  }

  /**
   * Batches that did not settle by the end of the budget (a late answer is
   * ignored): those the store had count as its unavailable (db_unavailable),
   * those a stage still had as failed_stage, naming the stage.
   */
  abandonOpenBatches(): void {
    for (const batch of this.openBatches) {
      batch.settled = true
      if (batch.stage !== undefined) this.holdBack(batch, batch.stage, batch.records, 'the exit budget ran out while the stage had them')
      else if (batch.spillable?.lines.length === batch.records && this.spool?.spill(batch.spillable.lines, batch.spillable.firstSeq, true)) continue
      else this.counters.fail(this.failReasons.unavailable, batch.records)
    }
    this.openBatches.clear()
  }

  /**
   * Parses a batch and hands it to the stages and the store. Not async, and
   * the records are let go once the store has them: an async function keeps
   * its arguments and locals until it returns, and a batch waiting on the
   * database must not hold its lines and parsed records (see EncodedBatch).
   */
  writeBatch(lines: string[], sizes: number[]): Promise<void> {
    this.roomFreed()
    // The store is known to be down: to the spool at once, unparsed, rather than each batch waiting a budget of its own.
    if (this.spool?.diverting && this.spool.spill(lines, this.seqs.next)) {
      this.seqs.next += lines.length
      this.publishQueue()
      return Promise.resolve()
    }
    const counters = this.counters
    const firstSeq = this.seqs.next
    const kept: string[] | undefined = this.spool ? [] : undefined
    const now = Date.now()
    let mark = workerProfile?.now() ?? 0
    workerProfile?.batchStarted(lines.length)
    const records: LogRecord[] = []
    let bytes = 0
    const read = this.read
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      let parsed: ParseResult
      try {
        parsed = read(line, sizes[i] as number, this.seqs.next, now)
      } catch {
        // Valid JSON that cannot be made storable (sanitizing a value nested deeper than the stack): counted, not lost with its batch.
        parsed = { ok: false }
      }
      if (!parsed.ok) {
        counters.drop('invalid_json')
        continue
      }
      this.seqs.next++
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
    // As the store answered, before the spool took what it could not write: did the store take the whole batch?
    const wroteWhole = outcome.written > 0 && outcome.unavailable === 0
    outcome = this.spillUnavailable(batch, outcome)
    this.lastBatchWrote = wroteWhole
    counters.add('written', outcome.written)
    counters.fail(this.failReasons.rejected, outcome.rejected)
    counters.fail(this.failReasons.unavailable, outcome.unavailable)
    counters.add('batches')
    counters.publish()
    workerProfile?.batchEnded()
    // Not while the database is failing (part of the batch could not be written): the notice would only wait too.
    if (wroteWhole && bytes > 0) await this.announceDrops(this.exit)
  }

  /**
   * With a spool: what the store could not take within its retry budget
   * goes to the spool instead of failing. A batch it could take none of goes
   * whole, and tells the spool the store is down. Otherwise the records the
   * store names (SinkResult.unavailableSeqs) go, one frame per run of
   * consecutive seqs; a store that says only how many leaves them failed, as
   * without a spool.
   */
  private spillUnavailable(batch: OpenBatch, outcome: StoreOutcome): StoreOutcome {
    const spool = this.spool
    if (!spool) return outcome
    if (outcome.written > 0) spool.storeAnswered()
    const spillable = batch.spillable
    if (outcome.unavailable === 0 || !spillable) return outcome
    const none = outcome.unavailable === batch.records
    // The stages ran: the frames say so, and replay does not count these records in them again.
    // The whole batch as one frame, unless a stage held records back (counted failed_stage): its lines then hold more than it.
    if (none && spillable.lines.length === batch.records) {
      if (!spool.spill(spillable.lines, spillable.firstSeq, true)) return outcome
      spool.storeFailed()
      return { ...outcome, unavailable: 0 }
    }
    // Line i has seq firstSeq + i (a line that does not parse gets none), whatever the stages held back.
    const spilled = outcome.unavailableSeqs ? spool.spillSeqs(spillable.lines, spillable.firstSeq, outcome.unavailableSeqs, true) : 0
    if (none && spilled > 0) spool.storeFailed()
    return spilled === 0 ? outcome : { ...outcome, unavailable: outcome.unavailable - spilled }
  }
}
