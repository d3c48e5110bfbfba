import { setTimeout as sleep } from 'node:timers/promises'
import type { Counters } from '../counters/counters.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import type { StageStep } from '../pipeline/stage-step.js'
import type { StoreFailReasons, StoreOutcome } from '../pipeline/store-of-record.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import type { parseLine, ParseResult } from '../records/parse-line.js'
import type { SpooledBatch } from './spool.js'
import type { SpoolRoute } from './spool-route.js'
import { markReplay } from '../../sinks/shared/write-origin.js'

/** How long the replayer sleeps when the spool is empty (a spill wakes it sooner). */
const IDLE_MS = 1000
/** Between replay attempts while the store is down: the first wait, and the longest. */
const PROBE_MIN_MS = 250
const PROBE_MAX_MS = 5000
/** While the ring pump spills under pressure (a burst), replay waits this long before it looks again. */
const PRESSURE_WAIT_MS = 20

/** The store of record as replay needs it: one write, and the counters its failures go to. */
export interface ReplayStore {
  readonly write: (records: LogRecord[], deadline: Deadline) => Promise<StoreOutcome>
  /** Which failed_<reason> counters its rejected and unavailable records go to (store-of-record.ts). */
  readonly failReasons: StoreFailReasons
}

/**
 * The stages a replayed batch goes through before the store: resolves with
 * the records to store (a stage may hold some back; it counts them), or
 * rejects when a stage failed (the batch is tried again later).
 */
export type ReplayStages = (records: LogRecord[], deadline: Deadline) => Promise<LogRecord[]>

/** How a spooled line becomes a record: `lineReader` (records/read-line.ts), as the live batches do. */
export type ReadLine = typeof parseLine

export interface ReplayLimits {
  /** Records per replayed batch (`batch.maxRecords`): frames of one writer are merged up to it, COPY-sized. */
  readonly maxRecords: number
  /** Batches written at once (the store's connections). */
  readonly inFlight: number
}

/**
 * `stages` as replay runs them: in order, each on what the one before kept;
 * what a stage holds back is counted `failed_stage` here, as the pipeline does.
 */
export function replayStages(stages: readonly StageStep[], counters: Counters, report: (message: string) => void): ReplayStages {
  return async (records, deadline) => {
    let kept = records
    for (const stage of stages) {
      const verdict = await stage.process(kept, deadline)
      if (verdict && verdict.keep.length < kept.length) {
        counters.fail('stage', kept.length - verdict.keep.length)
        report(`stage ${stage.name}: ${verdict.why}; replayed records not stored, counted as failed_stage`)
        kept = verdict.keep
      }
    }
    return kept
  }
}

/**
 * Whether `frame` may be written in one transaction with the group ending in
 * `last`: same writer, same stage history, and the very next seqs. The
 * commit ledger records a transaction as the range from its first seq to
 * its last, so a group must hold every seq in between: frames are appended
 * out of seq order (a batch spooled after its retry budget comes after raw
 * spills of later lines), and a range spanning a frame still in the spool
 * would count that frame's records as committed without writing them.
 */
export function joinsGroup(last: Pick<SpooledBatch, 'writerId' | 'stagesRan' | 'firstSeq' | 'lines'>, frame: Pick<SpooledBatch, 'writerId' | 'stagesRan' | 'firstSeq'>): boolean {
  return frame.writerId === last.writerId && frame.stagesRan === last.stagesRan && frame.firstSeq === last.firstSeq + last.lines.length
}

/** Frames merged into one write: see joinsGroup. */
interface ReplayGroup {
  readonly frames: SpooledBatch[]
  records: number
}

/**
 * Replays the spool, oldest frame first, while new records keep flowing:
 * frames of one writer merged into batches of up to `maxRecords`, several
 * in flight up to the store's connections, through the stages to the store
 * of record, with the frames' writer id and seqs, so the Postgres commit
 * ledger makes a replay exactly-once even when an earlier attempt did
 * commit. A frame is settled (and counted) only once the store has answered
 * for it; a store still down leaves it in the spool and the replay is tried
 * again, backing off. Of a group written in part, the records the store
 * names as unavailable are spooled again before its frames are settled. Frames whose stages ran before they were spooled (a
 * batch the store could not take) are marked so, and stages that count
 * records (CloudWatch) do not count them twice.
 */
export class Replayer {
  private stopped = false
  private readonly deadline = Deadline.never()
  private readonly stopping = new AbortController()
  private running: Promise<void> | undefined
  /** The frame taken from the spool that did not fit the last group: it starts the next one. */
  private carried: SpooledBatch | undefined

  constructor(
    private readonly route: SpoolRoute,
    private readonly store: ReplayStore,
    private readonly stages: ReplayStages,
    private readonly counters: Counters,
    private readonly limits: ReplayLimits,
    private readonly read: ReadLine,
  ) {}

  start(): void {
    this.running ??= this.run().catch((error: unknown) => {
      process.stderr.write(`pino-sluice: the spool replay stopped: ${(error as Error).stack}\n`)
    })
  }

  /** No new replay starts; those in flight get until `at` (epoch ms), else their frames stay in the spool uncounted. */
  async stop(at: number): Promise<void> {
    this.stopped = true
    this.deadline.bringForward(at)
    this.stopping.abort()
    if (this.running) await Deadline.at(at).settles(this.running)
  }

  private async run(): Promise<void> {
    let wait = PROBE_MIN_MS
    const inFlight = new Set<Promise<boolean>>()
    let failed = false
    while (!this.stopped) {
      if (this.route.ringUnderPressure) {
        await sleep(PRESSURE_WAIT_MS, undefined, { signal: this.stopping.signal }).catch(() => {})
        continue
      }
      const group = failed || inFlight.size >= this.limits.inFlight ? undefined : this.nextGroup()
      if (group) {
        // Anything unexpected in a replay counts as the store not taking it: its frames stay and are tried again.
        const replaying = this.replay(group).catch(() => false)
        inFlight.add(replaying)
        void replaying.then((ok) => {
          inFlight.delete(replaying)
          if (!ok) failed = true
        })
        continue
      }
      if (inFlight.size > 0) {
        await Promise.race(inFlight)
        continue
      }
      if (failed) {
        // Everything in flight has answered: what was not settled is handed out again, after a pause.
        failed = false
        this.carried = undefined
        this.route.spool.unhandAll()
        await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => {})
        wait = Math.min(wait * 2, PROBE_MAX_MS)
        continue
      }
      wait = PROBE_MIN_MS
      await this.route.untilWork(IDLE_MS)
      // Keeps spool_oldest_age_ms current while nothing else publishes.
      this.route.publish()
      this.counters.publish()
    }
    // stop() waits (until its deadline) for the replays in flight, as it did for one.
    await Promise.allSettled(inFlight)
  }

  /** The oldest frames not yet handed out, merged while each follows the one before it (joinsGroup) and they fit `maxRecords`. */
  private nextGroup(): ReplayGroup | undefined {
    const first = this.carried ?? this.route.spool.next()
    this.carried = undefined
    if (!first) return undefined
    const group: ReplayGroup = { frames: [first], records: first.lines.length }
    let last = first
    while (group.records < this.limits.maxRecords) {
      const frame = this.route.spool.next()
      if (!frame) break
      if (!joinsGroup(last, frame) || group.records + frame.lines.length > this.limits.maxRecords) {
        this.carried = frame
        break
      }
      group.frames.push(frame)
      group.records += frame.lines.length
      last = frame
    }
    return group
  }

  /** True when the group's frames are settled and counted; false when the store could take none of it (the frames stay). */
  private async replay(group: ReplayGroup): Promise<boolean> {
    const now = Date.now()
    let records: LogRecord[] = []
    let sanitized = 0
    let lines = 0
    for (const frame of group.frames) {
      lines += frame.lines.length
      for (const [i, line] of frame.lines.entries()) {
        let parsed: ParseResult
        try {
          parsed = this.read(line, Buffer.byteLength(line), frame.firstSeq + i, now)
        } catch {
          parsed = { ok: false }
        }
        if (!parsed.ok) continue
        if (parsed.sanitized) sanitized++
        records.push(parsed.record)
      }
    }
    const invalid = lines - records.length
    const first = group.frames[0] as SpooledBatch
    let outcome: StoreOutcome
    try {
      markReplay(records, { writerId: first.writerId, stagesRan: first.stagesRan })
      records = markReplay(await this.stages(records, this.deadline), { writerId: first.writerId, stagesRan: first.stagesRan })
      outcome = records.length === 0 ? { written: 0, rejected: 0, unavailable: 0 } : await this.store.write(records, this.deadline)
    } catch {
      outcome = { written: 0, rejected: 0, unavailable: records.length }
    }
    // Stopped meanwhile: the spool is closing; the frames stay for the next process (the ledger keeps that exact).
    if (this.stopped && this.deadline.passed) return false
    if (records.length > 0 && outcome.unavailable === records.length) {
      this.route.storeFailed()
      return false
    }
    // Part written and part not: what the store names goes back to the spool before the group's frames are settled.
    const unavailable = outcome.unavailable - this.respill(group, outcome)
    const counters = this.counters
    const reasons = this.store.failReasons
    counters.add('written', outcome.written)
    counters.fail(reasons.rejected, outcome.rejected)
    counters.fail(reasons.unavailable, unavailable)
    counters.drop('invalid_json', invalid)
    counters.add('sanitized', sanitized)
    if (outcome.written > 0) counters.add('batches')
    for (const frame of group.frames) this.route.spool.settle(frame)
    this.route.storeAnswered()
    this.route.publish()
    counters.publish()
    return true
  }

  /**
   * The records of a group written in part that the store names as
   * unavailable (StoreOutcome.unavailableSeqs), appended to the spool again
   * with the group's writer id and their own seqs (the ledger keeps their
   * next replay exactly-once), a frame per run of consecutive seqs, marked as
   * having been through the stages (they just were). Returns how many are
   * accounted for; a store that says only how many gets 0: those count failed.
   */
  private respill(group: ReplayGroup, outcome: StoreOutcome): number {
    if (!outcome.unavailableSeqs || outcome.unavailable === 0) return 0
    const first = group.frames[0] as SpooledBatch
    // The group's frames hold consecutive seqs (joinsGroup): their lines in order are the seqs from the first frame's on.
    const lines = group.frames.length === 1 ? first.lines : group.frames.flatMap((frame) => frame.lines)
    return this.route.spillSeqs(lines, first.firstSeq, outcome.unavailableSeqs, true, first.writerId)
  }
}
