/**
 * The sink API. Every sink, built in or custom, is one `Sink`: it gets each
 * batch of parsed records with a deadline and says what became of them.
 *
 *   batch ─► stages (in order) ─► store of record ─► written / failed
 *                               └► fan-out sinks ──► sinks.<name>.delivered / failed
 *
 * The pipeline drives every sink through one runner (src/pipeline/sink-runner.ts); the role is data
 * (options.sinks[i].role, or which built-in it is), not a different interface. The role decides what its answer means:
 * - `'store'`: the store of record (one at most; Postgres by default). Its answer decides `written` and `failed`.
 * - `'stage'`: sees every batch first and in order (S3 offload, CloudWatch metrics, redaction); may change each
 *   record's `value` (level and time included) and hold records back (docs/sinks.md#stages).
 * - `'fanout'`: gets every batch after the stages, beside the store; its own delivered/failed counts never change the store's.
 */
import type { LogRecord } from './shared/log-record.js'

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
  /**
   * Optional, for a store of record: the `seq` of each record counted in `unavailable` (as many, each a
   * record of this batch, none twice). With a disk spool, exactly those records are spooled and replayed
   * later; without it (or when the list does not match `unavailable`) they are counted failed as usual.
   */
  unavailableSeqs?: readonly number[]
  /** A short why for the failed ones (e.g. `HTTP 503`), printed once on stderr. */
  reason?: string
}

export interface Sink {
  /**
   * Called once before the first write. A store of record that fails here fails the transport at
   * start; any other sink reports it on stderr, and writes follow (none while a start that passed
   * its deadline is still pending: those batches fail as unavailable).
   */
  start?(context: SinkCallContext): void | Promise<void>
  /**
   * One batch, in order; records are shared with the other sinks: read them, don't change them. A stage
   * may change each record's `value`; its array is its own (to hold records back, remove them there and
   * answer `rejected` for as many).
   */
  write(records: readonly LogRecord[], context: SinkCallContext): void | SinkResult | Promise<void | SinkResult>
  /** Sends what the sink holds (called by `transport.flush`). */
  flush?(context: SinkCallContext): void | Promise<void>
  /** Last call, within the exit budget. */
  close?(context: SinkCallContext): void | Promise<void>
  /** Stages only: how the store of record settled a batch and how long that took (ms). */
  stored?(result: Required<Omit<SinkResult, 'reason' | 'unavailableSeqs'>>, elapsedMs: number): void
  /**
   * The sink keeps its own concurrency and ends every call by `context.deadline` itself (the built-in
   * Postgres, file, S3 and CloudWatch sinks). The runner then hands it batches as they come, several at
   * once, and neither queues them one at a time nor abandons a call at `timeoutMs`: a call that never
   * ends holds up `flush()` and the exit. Leave it out unless your sink bounds every call itself.
   */
  readonly concurrent?: true
  /**
   * Called at the end of the exit budget: settle every call in flight now (their records count as
   * unavailable) and start nothing more. Postgres destroys its connections here.
   */
  cutOff?(): void
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
