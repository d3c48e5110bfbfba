/**
 * The memory the app thread and the worker share for the ring: the one place
 * both sides read. Each field has one owner, the only side that writes it;
 * the other side only loads it with Atomics, so no locks or compare-and-swap.
 *
 *   state (Int32Array)
 *   ┌──────────────┬────────┬──────────────────────────────────────────────┐
 *   │ field        │ owner  │ meaning                                      │
 *   ├──────────────┼────────┼──────────────────────────────────────────────┤
 *   │ WRITE_POS    │ app    │ bytes ever written (wraps at 2^32)           │
 *   │ READ_POS     │ worker │ bytes ever read; WRITE_POS − READ_POS = used │
 *   │ WORKER_IDLE  │ both   │ worker sets 1 before it sleeps; the app sets │
 *   │              │        │ 0 when it rings the doorbell                 │
 *   │ DOORBELL     │ app    │ bumped to wake the sleeping worker (so also  │
 *   │              │        │ the count of doorbells rung)                 │
 *   │ CLOSE        │ app    │ 1: drain, commit and stop (exit or close())  │
 *   │ CLOSED       │ worker │ 1: the worker has settled everything         │
 *   │ ASIDE_SENT   │ app    │ lines too big for the ring, sent as messages │
 *   │              │        │ (the worker drains them all before closing)  │
 *   │ WORKER_WAKES │ worker │ times the worker slept and woke (bench only) │
 *   │ WRAPPED_AT   │ app    │ where the app found the ring empty and went  │
 *   │              │        │ back to offset 0 (an early wrap); NO_WRAP    │
 *   │              │        │ once the worker has followed it              │
 *   └──────────────┴────────┴──────────────────────────────────────────────┘
 *
 *   data (capacity bytes, a power of two): frames, each 4-byte aligned
 *   ┌───────────────┬────────────────────────────┬─────────┐
 *   │ u32 length L  │ L bytes of UTF-8 (one line) │ pad to 4│   a payload may wrap past the end to offset 0;
 *   └───────────────┴────────────────────────────┴─────────┘   a header never does (both ends are aligned)
 *
 * The ring costs only its high-water mark. A write that finds the ring empty
 * (the worker has read everything) starts at the next lap, offset 0, instead
 * of where the last line ended: a quiet service keeps touching its first
 * pages, and a burst touches what it queued. Pages once touched stay resident
 * for the life of the process, so without this every service paid the whole
 * ring (32 MiB by default) after its first lap. The skipped bytes cost no
 * room: they hold nothing the worker reads, and the app counts its free space
 * from the new lap while the worker has not followed yet. WRAPPED_AT is
 * stored before the frame's WRITE_POS, so a worker that sees the new position
 * also sees where to jump; it jumps only then (never to a lap whose first
 * frame is not published yet).
 */
export const WRITE_POS = 0
export const READ_POS = 1
export const WORKER_IDLE = 2
export const DOORBELL = 3
export const CLOSE = 4
export const CLOSED = 5
export const ASIDE_SENT = 6
export const WORKER_WAKES = 7
export const WRAPPED_AT = 8
const STATE_SLOTS = 9

/** WRAPPED_AT when no early wrap waits for the worker: positions are multiples of 4, never odd. */
export const NO_WRAP = -1

export const FRAME_HEADER_BYTES = 4

/** Bytes a frame of `length` payload bytes takes in the ring. */
export function frameBytes(length: number): number {
  return FRAME_HEADER_BYTES + ((length + 3) & ~3)
}

export interface RingMemory {
  readonly state: SharedArrayBuffer
  readonly data: SharedArrayBuffer
}

/** `capacity` must be a power of two (resolveRingBytes rounds the option up to one). */
export function allocateRing(capacity: number): RingMemory {
  const state = new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT)
  new Int32Array(state)[WRAPPED_AT] = NO_WRAP
  return { state, data: new SharedArrayBuffer(capacity) }
}

/** The position where the lap after the one `position` is in starts (offset 0 again). */
export function nextLapStart(position: number, capacity: number): number {
  return ((position & ~(capacity - 1)) + capacity) | 0
}

/** Bytes in use, from two free-running 32-bit positions. */
export function usedBytes(writePos: number, readPos: number): number {
  return (writePos - readPos) >>> 0
}
