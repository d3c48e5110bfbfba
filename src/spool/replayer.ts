import { setTimeout as sleep } from 'node:timers/promises'
import type { Counters } from '../counters/counters.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import type { SinkRunner } from '../pipeline/sink-runner.js'
import type { StageStep } from '../pipeline/stage-step.js'
import { storeOutcome, type StoreFailReasons, type StoreOutcome } from '../pipeline/store-of-record.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine, type ParseResult } from '../records/parse-line.js'
import type { SpooledBatch } from './spool.js'
import type { SpoolRoute } from './spool-route.js'
import { markReplay } from '../../sinks/shared/write-origin.js'

/** How long the replayer sleeps when the spool is empty (a spill wakes it sooner). */
const IDLE_MS = 1000
/** Between replay attempts while the store is down: the first wait, and the longest. */
const PROBE_MIN_MS = 250
const PROBE_MAX_MS = 5000

/**
 * Replays the spool, oldest frame first, while new records keep flowing: one
 * frame at a time through the stages to the store of record, with the
 * frame's writer id and seqs, so the Postgres commit ledger makes a replay
 * exactly-once even when an earlier attempt did commit. A frame is settled
 * (and counted) only once the store has answered for it; a store still down
 * leaves it in the spool and the replay is tried again, backing off.
 */
export class Replayer {
  private stopped = false
  private readonly deadline = Deadline.never()
  private readonly stopping = new AbortController()
  private running: Promise<void> | undefined

  constructor(
    private readonly route: SpoolRoute,
    /** The store of record's runner. */
    private readonly store: SinkRunner,
    private readonly stages: readonly StageStep[],
    private readonly counters: Counters,
    /** Which failed_<reason> counters the store's rejected and unavailable records go to (store-of-record.ts). */
    private readonly failReasons: StoreFailReasons,
  ) {}

  start(): void {
    this.running ??= this.run().catch((error: unknown) => {
      process.stderr.write(`pino-sluice: the spool replay stopped: ${(error as Error).stack}\n`)
    })
  }

  /** No new replay starts; the one in flight gets until `at` (epoch ms), else its frame stays in the spool uncounted. */
  async stop(at: number): Promise<void> {
    this.stopped = true
    this.deadline.bringForward(at)
    this.stopping.abort()
    if (this.running) await Deadline.at(at).settles(this.running)
  }

  private async run(): Promise<void> {
    let wait = PROBE_MIN_MS
    const { spool } = this.route
    while (!this.stopped) {
      const batch = spool.next()
      if (!batch) {
        await this.route.untilWork(IDLE_MS)
        // Keeps spool_oldest_age_ms current while nothing else publishes.
        this.route.publish()
        this.counters.publish()
        continue
      }
      if (await this.replay(batch)) {
        wait = PROBE_MIN_MS
        continue
      }
      spool.unhandAll()
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => {})
      wait = Math.min(wait * 2, PROBE_MAX_MS)
    }
  }

  /** True when the frame is settled and counted; false when the store could take none of it (the frame stays). */
  private async replay(batch: SpooledBatch): Promise<boolean> {
    const now = Date.now()
    const records: LogRecord[] = []
    let sanitized = 0
    for (const [i, line] of batch.lines.entries()) {
      let parsed: ParseResult
      try {
        parsed = parseLine(line, Buffer.byteLength(line), batch.firstSeq + i, now)
      } catch {
        parsed = { ok: false }
      }
      if (!parsed.ok) continue
      if (parsed.sanitized) sanitized++
      records.push(parsed.record)
    }
    const invalid = batch.lines.length - records.length
    let outcome: StoreOutcome
    try {
      for (const stage of this.stages) await stage.process(records, this.deadline)
      outcome = storeOutcome(await this.store.write(markReplay(records, { writerId: batch.writerId }), this.deadline))
    } catch {
      outcome = { written: 0, rejected: 0, unavailable: records.length }
    }
    // Stopped meanwhile: the spool is closing; the frame stays for the next process (the ledger keeps that exact).
    if (this.stopped && this.deadline.passed) return false
    if (records.length > 0 && outcome.unavailable === records.length) {
      this.route.storeFailed()
      return false
    }
    const counters = this.counters
    const reasons = this.failReasons
    counters.add('written', outcome.written)
    counters.fail(reasons.rejected, outcome.rejected)
    // Part written and part not: the store cannot say which, so the rest is counted as it would be without a spool.
    counters.fail(reasons.unavailable, outcome.unavailable)
    counters.drop('invalid_json', invalid)
    counters.add('sanitized', sanitized)
    if (outcome.written > 0) counters.add('batches')
    this.route.spool.settle(batch)
    this.route.storeAnswered()
    this.route.publish()
    counters.publish()
    return true
  }
}
