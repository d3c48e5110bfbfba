/**
 * How hard the pipeline drives the store of record, decided once at resolve
 * time from whichever store is chosen, so the generic pipeline never reads
 * one store's options (issue 23).
 */
import type { PostgresOptions } from '../../sinks/postgres/postgres-options.js'
import type { SinkEntry, StoreChoice } from './sinks-options.js'

export interface StoreLimits {
  /** Batches handed to the store at once (the batcher's concurrency): those being written plus one being parsed. */
  readonly batchesInFlight: number
  /** The longest `flush()` waits for the store to settle what it was given (ms). */
  readonly flushLimitMs: number
}

export type ResolvedStore = StoreChoice & StoreLimits

/** A margin for the last attempt's answer to be counted after its limit. */
const ANSWER_MARGIN_MS = 1000
/**
 * The file store and no store: local work, one batch at a time. A flush that
 * waits longer than this is waiting on a stuck disk (or a stage that is
 * stuck), and gives up instead of hanging the app's flush.
 */
const LOCAL_FLUSH_LIMIT_MS = 30_000

export function storeLimits(choice: StoreChoice, postgres: PostgresOptions | undefined, sinks: readonly SinkEntry[]): StoreLimits {
  if (choice.kind === 'postgres' && postgres) {
    // One batch more than connections: the next one is parsed while the others wait on Postgres.
    return { batchesInFlight: postgres.connections + 1, flushLimitMs: postgres.retry.budgetMs + postgres.connectTimeoutMs + ANSWER_MARGIN_MS }
  }
  if (choice.kind === 'sink') {
    // A custom store runs one call at a time (its runner abandons a call at timeoutMs, and a flush bounds its queue by it).
    const entry = sinks.find((e) => e.index === choice.index)
    return { batchesInFlight: 2, flushLimitMs: (entry?.timeoutMs ?? LOCAL_FLUSH_LIMIT_MS) + ANSWER_MARGIN_MS }
  }
  return { batchesInFlight: 2, flushLimitMs: LOCAL_FLUSH_LIMIT_MS }
}
