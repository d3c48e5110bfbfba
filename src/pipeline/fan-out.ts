import type { Deadline } from '../../sinks/sink.js'
import type { LogRecord } from '../records/log-record.js'
import type { SinkRunner } from './sink-runner.js'

/**
 * Fan-out sinks: every batch, after the stages, beside the store of record.
 * The store never waits for them; each keeps its own delivered/failed counts
 * (in its SinkRunner), so a slow or broken one costs only its own records.
 */
export class FanOut {
  private readonly pending = new Set<Promise<unknown>>()

  constructor(private readonly runners: readonly SinkRunner[]) {}

  get size(): number {
    return this.runners.length
  }

  start(exit: Deadline): void {
    for (const runner of this.runners) runner.start(exit)
  }

  /** Hands the batch to every fan-out sink without waiting. */
  give(records: readonly LogRecord[], exit: Deadline): void {
    for (const runner of this.runners) {
      const write = runner.write(records, exit).finally(() => this.pending.delete(write))
      this.pending.add(write)
    }
  }

  /** Resolves once every batch given so far is settled at every fan-out sink (each call is bounded by its deadline). */
  async flush(exit: Deadline): Promise<void> {
    await Promise.all([...this.pending])
    await Promise.all(this.runners.map((runner) => runner.flush(exit)))
  }

  async close(exit: Deadline): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.close(exit)))
  }
}
