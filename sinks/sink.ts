/**
 * The sink API. Every sink, built in or custom, is one `Sink`: it gets each
 * batch of parsed records with a deadline and says what became of them.
 *
 *   batch ─► stages (in order) ─► store of record ─► written / failed
 *                               └► fan-out sinks ──► sinks.<name>.delivered / failed
 *
 * The role decides what its answer means:
 * - `'store'`: the store of record (one at most; Postgres by default). Its answer decides `written` and `failed`.
 * - `'stage'`: sees every batch first and in order (S3 offload, CloudWatch metrics); may rewrite records.
 * - `'fanout'`: gets every batch after the stages, beside the store; its own delivered/failed counts never change the store's.
 */
import type { LogRecord } from '../src/records/log-record.js'

export type { LogRecord }

export type SinkRole = 'store' | 'stage' | 'fanout'

/** Time left for one call: `deadline` in epoch ms, and a signal aborted when it passes. */
export interface SinkCallContext {
  /** Epoch ms after which the call's answer is no longer waited for; may move earlier when the app exits. */
  readonly deadline: number
  /** Aborted when `deadline` passes: hand it to fetch/SDK calls. */
  readonly signal: AbortSignal
}

/**
 * What a sink did with one batch. `delivered + rejected + unavailable` must equal the batch size
 * (anything else counts the whole batch as `invalid_result`). Returning nothing means all delivered;
 * throwing or rejecting means none (`error`).
 */
export interface SinkResult {
  delivered: number
  /** Refused because of the records themselves (a bad record); retrying would not help. */
  rejected?: number
  /** Not delivered because the destination could not be reached in time. */
  unavailable?: number
  /** A short why for the failed ones (e.g. `HTTP 503`), printed once on stderr. */
  reason?: string
}

export interface Sink {
  /** Called once before the first write; a rejection is reported on stderr, writes still follow. */
  start?(context: SinkCallContext): void | Promise<void>
  /** One batch, in order; records are shared with the other sinks: read them, don't change them (stages may). */
  write(records: readonly LogRecord[], context: SinkCallContext): void | SinkResult | Promise<void | SinkResult>
  /** Sends what the sink holds (called by `transport.flush`). */
  flush?(context: SinkCallContext): void | Promise<void>
  /** Last call, within the exit budget. */
  close?(context: SinkCallContext): void | Promise<void>
  /** Stages only: how the store of record settled a batch and how long that took (ms). */
  stored?(result: Required<Omit<SinkResult, 'reason'>>, elapsedMs: number): void
}

/** What a sink factory is given besides its own options. */
export interface SinkSetup {
  /** The sink's name in the counters (`sinks.<name>.delivered`). */
  readonly name: string
  readonly role: SinkRole
  /** Where the factory's options came from, for error messages: `options.sinks[0].options`. */
  readonly optionsPath: string
  /** `exit.budgetMs`: what close() has at most. */
  readonly exitBudgetMs: number
  /** Prints one line on stderr, each distinct message once. */
  report(message: string): void
}

/**
 * What a custom sink module exports, as `default` or as `createSink`:
 *
 * ```js
 * export default function createSink(options, setup) { return { async write(records, { signal }) { … } } }
 * ```
 */
export type SinkFactory<Options = Record<string, unknown>> = (options: Options, setup: SinkSetup) => Sink | Promise<Sink>

// ─── Internal shapes the pipeline drives (built from Sinks by src/pipeline/sink-adapters.ts) ───

/** What became of one batch handed to the store of record. Sums to the batch size. */
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

/** The store of record as the pipeline drives it: it decides whether a record counts as written. */
export interface PrimarySink {
  readonly name: string
  /** Which `failed_<reason>` counters its rejected and unavailable records go to. */
  readonly failReasons?: { rejected: 'db_rejected' | 'store_rejected'; unavailable: 'db_unavailable' | 'store_unavailable' }
  /** Starts connecting and migrating in the background (retrying until `deadline`); never throws. */
  start(deadline: Deadline): void
  write(records: LogRecord[], deadline: Deadline): Promise<BatchOutcome>
  /** Ends by `deadline` (epoch ms) at the latest, whatever the destination does. */
  close(deadline?: Deadline): Promise<void>
  /** Stops at once on exit: writes in flight settle now (their records as unavailable), no retry starts. */
  cutOff?(): void
}

/**
 * A stage as the pipeline drives it: sees every batch before the store of
 * record, in order. It may rewrite records (offloading payloads) or read them
 * (aggregating metrics), but never decides the fate of a record.
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
