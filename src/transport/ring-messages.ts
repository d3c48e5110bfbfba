import type { RingMemory } from '../ring/ring-layout.js'

/** What createSluice hands its worker. */
export interface RingWorkerData {
  /** Tells createSluice() it runs inside this worker (src/transport/inside-sluice-worker.ts). */
  readonly mark: string
  /** The user's options plus `counters` (structured-cloned; validated again in the worker). */
  readonly options: Record<string, unknown>
  readonly ring: RingMemory
}

/** App thread → worker. `writePos` is the ring position everything to be flushed was written before. */
export type ToWorker =
  | { type: 'flush'; id: number; writePos: number }
  | { type: 'close' }
  /** A line bigger than the ring (S3 can offload it), already counted as received. */
  | { type: 'line'; line: string }

/** Worker → app thread. */
export type ToApp =
  | { type: 'ready' }
  | { type: 'flushed'; id: number; error?: string }
  | { type: 'closed' }
  /** A line sent as a message has been taken into the pipeline: its characters no longer count against the app. */
  | { type: 'taken'; chars: number }
