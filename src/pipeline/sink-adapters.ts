/**
 * Two directions between the public Sink and what the pipeline drives:
 * built-in sinks (PostgresSink, the S3 and CloudWatch stages) are wrapped as
 * Sinks, so they go through the same SinkRunner as custom ones; runners are
 * wrapped back as the store of record (PrimarySink) or a Stage.
 */
import { NOTICE_FIELD } from './drop-notice.js'
import type { SinkRunner } from './sink-runner.js'
import type { BatchOutcome, Deadline, PrimarySink, Sink, SinkCallContext, Stage } from '../../sinks/sink.js'
import { RAW_LINE, type LogRecord } from '../records/log-record.js'

/** A Deadline that follows the call's context (the exit deadline moves when the pipeline closes). */
function liveDeadline(context: SinkCallContext): Deadline {
  return {
    get at() {
      return context.deadline
    },
  }
}

/** A store of record with its own retries and concurrency (PostgresSink) as a Sink. */
export function primaryAsSink(primary: PrimarySink): Sink {
  return {
    start: (context) => primary.start(liveDeadline(context)),
    // Not async, here and in runnerAsStore: an async function would hold the records until the store is done.
    write: (records, context) =>
      primary.write(records as LogRecord[], liveDeadline(context)).then((outcome) => ({ delivered: outcome.written, rejected: outcome.rejected, unavailable: outcome.unavailable })),
    close: () => primary.close(),
  }
}

/** A built-in stage (S3 offload, CloudWatch metrics) as a Sink: a batch it processed counts as delivered. */
export function stageAsSink(stage: Stage): Sink {
  return {
    start: () => stage.start?.(),
    write: (records, context) => stage.process(records as LogRecord[], liveDeadline(context)),
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
    close: () => runner.close(exit),
  }
}

/**
 * The runner of a stage as the pipeline's Stage. `mayRewrite`: the stage is
 * not ours and may change records, so their raw lines no longer say what
 * they hold and are forgotten first (the store then serializes `value`).
 */
export function runnerAsStage(runner: SinkRunner, mayRewrite = false): Stage {
  return {
    name: runner.name,
    start: () => runner.start({ at: Number.POSITIVE_INFINITY }),
    process: async (records, deadline) => {
      if (mayRewrite) for (const record of records) record[RAW_LINE] = undefined
      await runner.write(records, deadline)
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

/** No store of record (`postgres: false` and none other): a record counts as written once the stages had it. */
export const NO_STORE: PrimarySink = {
  name: 'none',
  failReasons: { rejected: 'store_rejected', unavailable: 'store_unavailable' },
  start: () => {},
  write: (records) => Promise.resolve({ written: records.length, rejected: 0, unavailable: 0 }),
  close: () => Promise.resolve(),
}
