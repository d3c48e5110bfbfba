import type { LogRecord } from './log-record.js'

/**
 * Records replayed from the disk spool carry who first logged them: the
 * writer id that, with their seqs, identifies them in the commit ledger. It
 * rides on the batch array itself (a symbol key, invisible to custom sinks
 * and JSON), so it reaches the store through the sink runner and adapters
 * without widening the Sink API.
 */
const ORIGIN: unique symbol = Symbol('pino-sluice replay origin')

export interface WriteOrigin {
  /** The writer that first logged the records (this process or an earlier one). */
  readonly writerId: string
  /** The stages saw these records before they were spooled (a batch the store could not take): stages that count records skip them. */
  readonly stagesRan?: boolean
}

type MarkedBatch = readonly LogRecord[] & { [ORIGIN]?: WriteOrigin }

/** Marks `records` as a replay of `origin`'s records. */
export function markReplay(records: LogRecord[], origin: WriteOrigin): LogRecord[] {
  ;(records as MarkedBatch & LogRecord[])[ORIGIN] = origin
  return records
}

/** The origin of a replayed batch, or undefined for new records. */
export function replayOrigin(records: readonly LogRecord[]): WriteOrigin | undefined {
  return (records as MarkedBatch)[ORIGIN]
}
