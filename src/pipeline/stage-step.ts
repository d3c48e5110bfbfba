/**
 * One stage's step in a batch: what the pipeline does around a SinkRunner of
 * role 'stage'. The batch is the pipeline's: the stage gets an array of its
 * own, so adding or removing records there cannot change what is counted; it
 * may change each record's `value`, and `level` and `time` are read back from
 * it. To hold records back it removes them from its array and answers
 * `rejected` (or `unavailable`) for as many.
 */
import type { SinkRunner, SinkTally } from './sink-runner.js'
import type { Deadline } from '../../sinks/shared/deadline.js'
import { RAW_LINE, type LogRecord } from '../../sinks/shared/log-record.js'
import { timeFromValue } from '../records/parse-line.js'
import { levelFromValue } from '../records/peek-level.js'

/** A stage held records back from the store (a fail-closed stage failed, or the stage rejected them). */
export interface StageVerdict {
  /** The records to store, in batch order: a subset of those the stage was given. */
  readonly keep: LogRecord[]
  /** Why the others were held back, for stderr (the stage's name is added). */
  readonly why: string
}

export interface StageSettings {
  /** The stage is not ours and may change records: their raw lines no longer say what they hold and are forgotten (the store then serializes `value`). */
  readonly mayRewrite: boolean
  /** What it did not process is held back from the store (see SinkEntry.failClosed). */
  readonly failClosed: boolean
}

/** How the store settled a batch, as a stage's `stored()` hears it. */
export interface StoredResult {
  readonly delivered: number
  readonly rejected: number
  readonly unavailable: number
}

const BUILT_IN: StageSettings = { mayRewrite: false, failClosed: false }

export class StageStep {
  constructor(
    readonly runner: SinkRunner,
    private readonly settings: StageSettings = BUILT_IN,
  ) {}

  get name(): string {
    return this.runner.name
  }

  /**
   * A custom stage: a batch it still has when the exit deadline passes is not
   * handed to the store (failed_stage, naming it). Built-in stages end their
   * own work by the deadline and pass the batch on (the S3 stage keeps a
   * payload it could not upload inline).
   */
  get custom(): boolean {
    return this.runner.settings.custom === true
  }

  /** Nothing: every record goes on to the store. A verdict: only `keep` does; the others count as `failed_stage`. */
  async process(records: LogRecord[], exit: Deadline): Promise<StageVerdict | undefined> {
    const { mayRewrite, failClosed } = this.settings
    if (mayRewrite) for (const record of records) record[RAW_LINE] = undefined
    const own = records.slice()
    const tally = await this.runner.write(own, exit)
    if (mayRewrite) for (const record of records) readBackLevelAndTime(record)
    return stageVerdict(records, own, tally, failClosed, (message) => this.runner.reportOnce(message))
  }

  /** Tells the stage how the store settled a batch and how long that took (ms). */
  stored(result: StoredResult, elapsedMs: number): void {
    try {
      this.runner.sink.stored?.({ delivered: result.delivered, rejected: result.rejected, unavailable: result.unavailable }, elapsedMs)
    } catch {
      // A stage's bookkeeping hook must not cost the batch.
    }
  }
}

/** What the store writes is what the stage left in `value`, its level and time included. */
function readBackLevelAndTime(record: LogRecord): void {
  record.level = levelFromValue(record.value.level)
  record.time = timeFromValue(record.value.time) ?? record.time
}

/**
 * Which records go on after a stage. Records it removed from its own array
 * and answered as not delivered are held back, whatever the stage's mode.
 * When it failed (threw, timed out, answered nonsense) or did not say which
 * records it did not process, a fail-closed stage holds back the whole batch
 * and a fail-open one lets it all through.
 */
export function stageVerdict(
  records: readonly LogRecord[],
  own: readonly LogRecord[],
  tally: SinkTally,
  failClosed: boolean,
  report: (message: string) => void,
): StageVerdict | undefined {
  const notDone = tally.rejected + tally.unavailable
  const failed = tally.broken > 0 || notDone > 0
  const left = new Set(own)
  const removed = records.filter((record) => !left.has(record))
  if (!failed) {
    if (removed.length > 0 || own.length !== records.length) report('changed the number of records in its batch; the batch is stored whole (to hold records back, remove them and answer { delivered, rejected })')
    return undefined
  }
  if (tally.broken === 0 && removed.length === notDone) return { keep: records.filter((record) => left.has(record)), why: `answered ${notDone} of ${records.length} records not delivered` }
  if (failClosed) return { keep: [], why: tally.broken > 0 ? 'failed on the batch (fail-closed)' : `did not process every record and did not say which (fail-closed)` }
  return undefined
}
