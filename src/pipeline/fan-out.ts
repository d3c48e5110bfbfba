import type { Deadline } from '../../sinks/shared/deadline.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import type { SinkRunner } from './sink-runner.js'

/**
 * Fan-out sinks: every batch, after the stages, beside the store of record.
 * The store never waits for them; each keeps its own delivered/failed counts
 * (in its SinkRunner), so a slow or broken one costs only its own records.
 */
export class FanOut {
  constructor(private readonly runners: readonly SinkRunner[]) {}

  get size(): number {
    return this.runners.length
  }

  start(exit: Deadline): void {
    for (const runner of this.runners) runner.start(exit)
  }

  /**
   * Takes the next place in every fan-out sink's queue, in the order batches
   * are formed; the returned function hands the batch over once the stages
   * are done with it, without waiting (each runner counts the outcome).
   */
  reserve(exit: Deadline): (records: readonly LogRecord[]) => void {
    const hands = this.runners.map((runner) => runner.reserve(exit))
    return (records) => {
      for (const hand of hands) void hand(records)
    }
  }

  /** Resolves once every batch given so far is settled at every fan-out sink (each call is bounded by its deadline). */
  async flush(exit: Deadline): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.flush(exit)))
  }

  async close(exit: Deadline): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.close(exit)))
  }
}
