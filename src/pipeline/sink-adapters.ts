/**
 * Two directions between the public Sink and what the pipeline drives:
 * built-in sinks (PostgresSink, the S3 and CloudWatch stages) are wrapped as
 * Sinks, so they go through the same SinkRunner as custom ones; runners are
 * wrapped back as the store of record (PrimarySink) or a Stage.
 */
import { NOTICE_FIELD } from './drop-notice.js'
import type { SinkRunner, SinkTally } from './sink-runner.js'
import type { BatchOutcome, Deadline, PrimarySink, Sink, SinkCallContext, Stage, StageVerdict } from '../../sinks/sink.js'
import { RAW_LINE, type LogRecord } from '../../sinks/shared/log-record.js'
import { timeFromValue } from '../records/parse-line.js'
import { levelFromValue } from '../records/peek-level.js'

/** A Deadline that follows the call's context (the exit deadline moves when the pipeline closes). */
function liveDeadline(context: SinkCallContext): Deadline {
  return {
    get at() {
      return context.deadline
    },
  }
}

/** A Sink that can be stopped at once on exit (PostgresSink, through primaryAsSink). */
export type CuttableSink = Sink & { cutOff?(): void }

/** A store of record with its own retries and concurrency (PostgresSink) as a Sink. */
export function primaryAsSink(primary: PrimarySink): CuttableSink {
  return {
    start: (context) => primary.start(liveDeadline(context)),
    // Not async, here and in runnerAsStore: an async function would hold the records until the store is done.
    write: (records, context) =>
      primary.write(records as LogRecord[], liveDeadline(context)).then((outcome) => ({ delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable })),
    // The pipeline's deadline, not the store's 1 s fallback: close ends within the exit budget it was given.
    close: (context) => primary.close(liveDeadline(context)),
    cutOff: () => primary.cutOff?.(),
  }
}

/** A built-in stage (S3 offload, CloudWatch metrics) as a Sink: a batch it processed counts as delivered. */
export function stageAsSink(stage: Stage): Sink {
  return {
    start: () => stage.start?.(),
    write: (records, context) => stage.process(records as LogRecord[], liveDeadline(context)).then(() => undefined),
    flush: (context) => stage.flush?.(liveDeadline(context)),
    close: (context) => stage.close?.(liveDeadline(context)),
    stored: (result, elapsedMs) => stage.settled?.({ written: result.delivered, rejected: result.rejected, unavailable: result.unavailable }, elapsedMs),
  }
}

function isNotice(records: readonly LogRecord[]): boolean {
  return records.length === 1 && NOTICE_FIELD in (records[0] as LogRecord).value
}

/** The runner of the store of record as the pipeline's PrimarySink: its tally decides written/failed. */
export function runnerAsStore(runner: SinkRunner, failReasons: PrimarySink['failReasons']): PrimarySink {
  // The pipeline's own deadline, moved to the end of the exit budget when it closes.
  let exit: Deadline = { at: Number.POSITIVE_INFINITY }
  return {
    name: runner.name,
    failReasons,
    start: (deadline) => {
      exit = deadline
      runner.start(deadline)
    },
    write: (records, deadline): Promise<BatchOutcome> =>
      // A store that broke (threw, hung, answered nonsense) left the batch unwritten: unavailable.
      runner.write(records, deadline, !isNotice(records)).then((tally) => ({ written: tally.delivered, rejected: tally.rejected, unavailable: tally.unavailable + tally.broken })),
    close: (deadline) => runner.close(deadline ?? exit),
    // The pipeline destroys the store's connections at the end of the exit budget (PostgresSink.cutOff).
    cutOff: () => (runner.sink as CuttableSink).cutOff?.(),
  }
}

export interface StageSettings {
  /** The stage is not ours and may change records: their raw lines no longer say what they hold and are forgotten (the store then serializes `value`). */
  readonly mayRewrite: boolean
  /** What it did not process is held back from the store (see SinkEntry.failClosed). */
  readonly failClosed: boolean
}

/**
 * The runner of a stage as the pipeline's Stage. The batch is the
 * pipeline's: the stage gets an array of its own, so adding or removing
 * records there cannot change what is counted; it may change each record's
 * `value`, and `level` and `time` are read back from it. To hold records
 * back it removes them from its array and answers `rejected` (or
 * `unavailable`) for as many.
 */
export function runnerAsStage(runner: SinkRunner, settings: StageSettings = { mayRewrite: false, failClosed: false }): Stage {
  return {
    name: runner.name,
    custom: runner.settings.isolated !== undefined,
    start: () => void runner.start({ at: Number.POSITIVE_INFINITY }),
    process: async (records, deadline) => {
      if (settings.mayRewrite) for (const record of records) record[RAW_LINE] = undefined
      const own = records.slice()
      const tally = await runner.write(own, deadline)
      if (settings.mayRewrite) for (const record of records) readBackLevelAndTime(record)
      return stageVerdict(records, own, tally, settings.failClosed, (message) => runner.reportOnce(message))
    },
    flush: (deadline) => runner.flush(deadline),
    close: (deadline) => runner.close(deadline),
    settled: (outcome, elapsedMs) => {
      try {
        runner.sink.stored?.({ delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable }, elapsedMs)
      } catch {
        // A stage's bookkeeping hook must not cost the batch.
      }
    },
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

/** No store of record (`postgres: false` and none other): a record counts as written once the stages had it. */
export const NO_STORE: PrimarySink = {
  name: 'none',
  failReasons: { rejected: 'store_rejected', unavailable: 'store_unavailable' },
  start: () => {},
  write: (records) => Promise.resolve({ written: records.length, rejected: 0, unavailable: 0 }),
  close: () => Promise.resolve(),
}
