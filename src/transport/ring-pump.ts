import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { exitBudget } from '../pipeline/exit-budget.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { workerProfile } from '../../sinks/shared/worker-profile.js'
import type { RingReader } from '../ring/ring-reader.js'
import type { RunningPipeline } from './start-pipeline.js'
import { channelWorkingSet, LAZY_POLL_MS, type ChannelWorkingSet } from './channel-working-set.js'

/** Lines moved per turn of the event loop at most, so COPY and batch completions interleave with reading. */
const LINES_PER_TURN = 2048
/** At most this many lines and raw bytes per spool frame when the ring spills: one writev each, one checksum over the lot. */
export const RAW_SPILL_RECORDS = 65_536
export const RAW_SPILL_BYTES = 1024 * 1024
/** Raw bytes spilled per turn of the event loop under pressure (a few frames), so batch completions still interleave. */
const SPILL_BYTES_PER_TURN = 4 * 1024 * 1024
/**
 * With a spool, once the ring is this full (a fraction of it) the pump spills
 * before it parses: parsing is slower than a tight loop logs, the raw spill is
 * not, so a burst goes to disk instead of filling the ring until the app drops.
 */
const SPILL_PRESSURE = 1 / 4
/** Kept after Pipeline.close for the stats file and the exit report. */
const REPORT_RESERVE_MS = 250
/** The longest the worker sleeps without looking at the ring (a safety net: the doorbell wakes it). */
const IDLE_WAKE_MS = 1000

/**
 * Moves lines from the app's ring into the pipeline's channel, only as fast
 * as the channel has room: when the channel is full, lines wait in the ring,
 * and when the ring is full too, the app drops them where they were logged.
 * While the channel holds a full batch and the ring is not under pressure,
 * lines wait in the ring too, as bytes off the JS heap (channel-working-set.ts).
 * With a spool, lines go raw to disk instead when the channel is full, when
 * the store is known down, and whenever the ring is more than SPILL_PRESSURE
 * full (a burst). Sleeps on the ring's doorbell while there is nothing to read.
 */
export class RingPump {
  private closing: Promise<void> | undefined
  private takenAside = 0
  private asideCounted = false
  private readonly workingSet: ChannelWorkingSet

  constructor(
    private readonly reader: RingReader,
    private readonly running: RunningPipeline,
  ) {
    const spillAt = running.spool ? reader.capacityBytes * SPILL_PRESSURE : undefined
    this.workingSet = channelWorkingSet(running.options.batch, reader.capacityBytes, spillAt)
  }

  async run(): Promise<void> {
    // One timer for the whole run, not one per sleep (see RingReader.waitForLines); unref'd, as the
    // app's doorbell timer is: the worker's message port is what keeps it alive.
    const safetyNet = setInterval(() => this.reader.rouse(), IDLE_WAKE_MS).unref()
    let closeRequested: boolean
    try {
      closeRequested = await this.pump()
    } finally {
      clearInterval(safetyNet)
    }
    if (closeRequested) return this.close()
  }

  /** Moves lines until a close starts; true when the app asked for it through the ring (process exit). */
  private async pump(): Promise<boolean> {
    const { pipeline } = this.running
    // Lines moved since the event loop last ran: a few lines that arrived while the last ones were
    // handled are read at once, and the loop's turn comes when the ring is empty (the worker sleeps)
    // or LINES_PER_TURN were moved. A yield per read cost ~6% of the worker's CPU in a service
    // (issue 25: lines come one request at a time, a few per read).
    let sinceYield = 0
    while (!this.closing) {
      if (this.reader.closeRequested()) return true
      if (this.reader.isEmpty()) {
        // Not a turn of the event loop when lines arrived meanwhile (waitForLines then returns at once):
        // the count goes on, so an app writing steadily cannot keep timers and COPY completions waiting.
        await this.reader.waitForLines()
        continue
      }
      // While the store is known down, straight to the spool: no decoding, parsing or batching first.
      if (pipeline.divertsToSpool() && this.spillWhatWaits() > 0) await yieldToEventLoop()
      else if (this.spillUnderPressure() > 0) await yieldToEventLoop()
      else {
        const wanted = this.wanted()
        // The batcher has a full batch in the channel: the rest waits in the ring until it takes one.
        // A full channel goes the old way instead (spilled with a spool, else waiting for room).
        if (wanted === 0 && this.channelHasRoom()) {
          sinceYield = 0
          await this.untilWanted()
          continue
        }
        const moved = this.moveWhatFits(wanted)
        if (moved === 0 && this.spillWhatWaits() === 0) await pipeline.untilRoom()
        else if (moved > 0 && (sinceYield += moved) < LINES_PER_TURN) continue
        else {
          sinceYield = 0
          await yieldToEventLoop()
        }
      }
    }
    return false
  }

  /** A line the app sent as a message (too big for the ring), already counted as received. */
  takeAside(line: string): void {
    this.takenAside++
    // Arriving after the close counted it as exit_timeout: counted once is enough.
    if (!this.asideCounted) this.running.pipeline.accept([line], undefined, true)
  }

  /** Resolves once everything the app wrote before `writePos` is settled. */
  async flush(writePos: number): Promise<void> {
    const { pipeline } = this.running
    while (!this.closing && !this.reader.hasRead(writePos)) {
      this.moveWhatFits()
      await Promise.race([pipeline.untilRoom(), pipeline.drainQueued()])
    }
    if (this.closing) return this.closing
    await pipeline.flush()
  }

  /** Drains the ring and the pipeline within the exit budget; what the ring still holds then is dropped as exit_timeout. */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose()
    return this.closing
  }

  private async drainAndClose(): Promise<void> {
    const { pipeline, counters, options } = this.running
    const { budgetMs } = options.exit
    const { hardEnd: deadline, drainEnd: retriesEnd } = exitBudget(budgetMs)
    // Batches stuck on an unreachable database give up early enough to leave time for the close itself.
    pipeline.stopRetryingAt(retriesEnd)
    const drained = Deadline.at(retriesEnd)
    for (;;) {
      this.moveWhatFits()
      if (Date.now() >= retriesEnd) break
      if (this.reader.isEmpty()) {
        // The close request can overtake lines sent as messages (shared memory is faster): take those first.
        if (this.takenAside >= this.reader.sentAside()) break
        await yieldToEventLoop()
        continue
      }
      await drained.settles(Promise.race([pipeline.untilRoom(), pipeline.drainQueued()]))
    }
    this.asideCounted = true
    const abandoned = this.spillOrDiscardRest() + Math.max(0, this.reader.sentAside() - this.takenAside)
    if (abandoned > 0) counters.drop('exit_timeout', abandoned)
    // Pipeline.close fits everything it does (its own drain, the final rows, ending connections) into
    // what it is given; the exit report and the stats file take a few ms after it.
    await this.running.close(Math.max(0, deadline - REPORT_RESERVE_MS - Date.now()))
  }

  /**
   * With a spool on, when the channel is full or the store is known down:
   * lines go from the ring to the spool raw (written from the ring's memory,
   * never copied, decoded or parsed), so the ring drains at disk speed and the
   * app does not drop them. Returns how many (0 without a spool).
   */
  private spillWhatWaits(underPressure = false): number {
    if (!this.running.spool) return 0
    const { pipeline } = this.running
    return this.reader.takeRaw(RAW_SPILL_RECORDS, RAW_SPILL_BYTES, (lines, parts) => pipeline.spillRaw(lines, parts, underPressure))
  }

  /**
   * With a spool, once the ring is fuller than SPILL_PRESSURE: spills what it
   * holds (up to SPILL_BYTES_PER_TURN), and nothing is parsed this turn: on a
   * busy machine the worker gets less CPU than the app, and only the raw
   * spill is cheap enough to keep up then. Returns how many lines (0 without
   * a spool or without pressure).
   */
  private spillUnderPressure(): number {
    const reader = this.reader
    if (!this.running.spool || reader.unreadBytes() <= reader.capacityBytes * SPILL_PRESSURE) return 0
    let spilled = 0
    for (let budget = SPILL_BYTES_PER_TURN; budget > 0; budget -= RAW_SPILL_BYTES) {
      const n = this.spillWhatWaits(true)
      if (n === 0) break
      spilled += n
    }
    return spilled
  }

  /** At the end of the exit budget: what the ring still holds goes to the spool if there is one; returns how many lines were discarded instead. */
  private spillOrDiscardRest(): number {
    if (!this.running.spool) return this.reader.discardAll()
    while (this.spillWhatWaits() > 0);
    return 0
  }

  /** How many lines the channel should get now (ChannelWorkingSet): 0 while it holds a full batch and the ring is not under pressure. */
  private wanted(): number {
    return this.workingSet.wanted(this.running.pipeline.channel, this.reader.unreadBytes())
  }

  private channelHasRoom(): boolean {
    const room = this.running.pipeline.room()
    return room.records > 0 && room.bytes > 0
  }

  /**
   * While lines wait in the ring: resolves when the batcher takes lines out of
   * the channel, or when a look every LAZY_POLL_MS finds the ring under
   * pressure (the app can fill it while the batches in flight take long), a
   * close asked for, or the store down (then the ring goes to the spool).
   */
  private untilWanted(): Promise<void> {
    const { pipeline } = this.running
    return new Promise((resolve) => {
      const look = (): void => {
        if (this.closing || this.reader.closeRequested() || pipeline.divertsToSpool() || this.wanted() > 0) resolve()
        else poll.refresh()
      }
      const poll = setTimeout(look, LAZY_POLL_MS)
      // Left waiting when a look resolves first: the next batch taken resolves it (one per hold, as flush's race leaves).
      void pipeline.untilRoom().then(() => {
        clearTimeout(poll)
        resolve()
      })
    })
  }

  /** Moves up to `limit` lines (and no more than the channel has room for); flush and close move whatever fits. */
  private moveWhatFits(limit = Number.POSITIVE_INFINITY): number {
    const { pipeline } = this.running
    const room = pipeline.room()
    if (room.records <= 0 || room.bytes <= 0 || limit <= 0) return 0
    workerProfile?.begin(() => pipeline.channel.length)
    const mark = workerProfile?.now() ?? 0
    const lines: string[] = []
    const sizes: number[] = []
    const moved = this.reader.read(Math.min(room.records, LINES_PER_TURN, limit), room.bytes, lines, sizes)
    if (moved > 0) pipeline.accept(lines, sizes, true)
    workerProfile?.add('readMs', mark)
    return moved
  }
}
