/**
 * What the pipeline reads from the runner of the store of record: a batch's
 * tally as written / rejected / unavailable, and which `failed_<reason>`
 * counters the last two go to. The store is a SinkRunner like any other
 * sink; only this reading of its answer is particular to the role.
 */
import type { Sink } from '../../sinks/sink.js'
import type { SinkTally } from './sink-runner.js'
import type { StoreChoice } from '../options/sinks-options.js'

/** What became of one batch handed to the store of record. Sums to the batch size. */
export interface StoreOutcome {
  readonly written: number
  /** Refused by the destination because of the record itself. */
  readonly rejected: number
  /** Not written: the destination stayed unreachable past its retry budget, or the store broke (threw, hung, answered nonsense). */
  readonly unavailable: number
  /** Which of the unavailable records, by seq (ascending, one per unavailable record), when the store said so (SinkResult.unavailableSeqs). */
  readonly unavailableSeqs?: readonly number[]
}

export const NOTHING_STORED: StoreOutcome = Object.freeze({ written: 0, rejected: 0, unavailable: 0 })

export interface StoreFailReasons {
  readonly rejected: 'db_rejected' | 'store_rejected'
  readonly unavailable: 'db_unavailable' | 'store_unavailable'
}

/** Postgres's failures keep their `db_` names (dashboards and docs use them); any other store's are `store_`. */
export function storeFailReasons(kind: StoreChoice['kind']): StoreFailReasons {
  return kind === 'postgres' ? { rejected: 'db_rejected', unavailable: 'db_unavailable' } : { rejected: 'store_rejected', unavailable: 'store_unavailable' }
}

/** A store that broke on a batch left it unwritten: unavailable. */
export function storeOutcome(tally: SinkTally): StoreOutcome {
  const outcome = { written: tally.delivered, rejected: tally.rejected, unavailable: tally.unavailable + tally.broken }
  // A broken call leaves the whole batch unavailable, and then no list comes with it.
  return tally.unavailableSeqs ? { ...outcome, unavailableSeqs: tally.unavailableSeqs } : outcome
}

/** No store of record (`postgres: false` and none other): a record counts as written once the stages had it. */
export const NO_STORE: Sink = { concurrent: true, write: () => undefined }
