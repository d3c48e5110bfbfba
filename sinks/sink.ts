import type { LogRecord } from '../src/records/log-record.js'

/** What became of one batch handed to the primary sink. Sums to the batch size. */
export interface BatchOutcome {
  written: number
  /** Refused by the destination because of the record itself. */
  rejected: number
  /** Not written because the destination stayed unreachable past the retry budget. */
  unavailable: number
}

/**
 * A point in time after which a sink stops retrying. The pipeline moves it
 * forward when closing so retries end inside the exit budget.
 */
export interface Deadline {
  /** Epoch ms; Infinity while running normally. */
  at: number
}

/** The store of record: it decides whether a record counts as written. */
export interface PrimarySink {
  readonly name: string
  /** Starts connecting and migrating in the background (retrying until `deadline`); never throws. */
  start(deadline: Deadline): void
  write(records: LogRecord[], deadline: Deadline): Promise<BatchOutcome>
  /** Ends by `deadline` (epoch ms) at the latest, whatever the destination does. */
  close(deadline?: Deadline): Promise<void>
  /** Stops at once on exit: writes in flight settle now (their records as unavailable), no retry starts. */
  cutOff?(): void
}

/**
 * A stage sees every batch before the primary sink, in order. It may rewrite
 * records (offloading payloads) or read them (aggregating metrics), but never
 * decides the fate of a record.
 */
export interface Stage {
  readonly name: string
  start?(): void
  process(records: LogRecord[], deadline: Deadline): Promise<void>
  /** Sends anything the stage holds (e.g. pending metrics). */
  flush?(deadline: Deadline): Promise<void>
  close?(deadline: Deadline): Promise<void>
  /** Told how the primary sink settled a batch and how long that took in ms (for latency metrics). */
  settled?(outcome: BatchOutcome, elapsedMs: number): void
}
