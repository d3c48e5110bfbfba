import type { BatchOptions } from '../options/resolve-options.js'

/**
 * Ring headroom (bytes between the pressure mark and where lines start to
 * spill or drop) below which lines are never left in the ring: the pump looks
 * at a held ring only every LAZY_POLL_MS, and a tight loop writes ~100 MB/s,
 * so 4 MiB is ~40 ms, many looks. The default 32 MiB ring qualifies with or
 * without a spool; a small ring is moved eagerly as before.
 */
export const MIN_LAZY_HEADROOM_BYTES = 4 * 1024 * 1024
/** How often a pump that left lines in the ring looks at how full it is (the batcher taking lines wakes it sooner). */
export const LAZY_POLL_MS = 2

/** What the rule looks at in the channel. */
export interface ChannelFill {
  readonly length: number
  readonly bytes: number
}

/**
 * How many lines the ring pump moves into the channel now (issue 25). A line
 * moved is a JS string on the worker's heap until its batch is encoded; in a
 * burst, eager moving made the whole backlog strings, and hundreds of
 * thousands of them survived scavenges into the old generation (~1.8 µs per
 * record of GC), while the ring already held the same lines as bytes, off
 * the heap. So lines stay in the ring while the channel holds a full batch
 * (batch.maxRecords or batch.maxBytes), and are moved when either of these
 * says otherwise:
 *
 * - The channel holds less than a full batch. The batcher sees only the
 *   channel, and with a full batch queued it is due (DUE_RECORDS and the due
 *   bytes are at most a full batch), so it needs nothing else: its timer,
 *   urgent levels (flushLevel) and a due size matter only for a channel that
 *   is not due yet, and then every line is moved as before. A line left in
 *   the ring is behind a due batch in FIFO order either way: it waits for the
 *   same batches in flight wherever it waits. One full batch, not one per
 *   batch in flight: batches in flight were taken out of the channel
 *   already, a finished one frees one slot (and the next batch taken is full,
 *   as before), and the pump refills in a few turns of the event loop, far
 *   less than a COPY takes.
 * - The ring is under pressure (its unread bytes past `pressureBytes`): then
 *   the channel fills as before, so ring + channel hold as much as they did
 *   and the app drops no more. With a spool the mark is below the pump's
 *   spill mark, so a line the channel had room for is not spilled to disk.
 *
 * flush() and close move whatever fits regardless (the pump does not ask
 * this rule there): the batcher can only drain what reaches the channel.
 */
export class ChannelWorkingSet {
  constructor(
    private readonly batch: Pick<BatchOptions, 'maxRecords' | 'maxBytes'>,
    /** Unread ring bytes past which the channel fills as far as it has room; undefined to never hold lines (a small ring). */
    private readonly pressureBytes: number | undefined,
  ) {}

  /** Lines to move now (at most): Infinity for as many as fit, 0 to leave them in the ring. */
  wanted(channel: ChannelFill, unreadBytes: number): number {
    if (this.pressureBytes === undefined || unreadBytes > this.pressureBytes) return Number.POSITIVE_INFINITY
    if (channel.bytes >= this.batch.maxBytes) return 0
    return Math.max(0, this.batch.maxRecords - channel.length)
  }
}

/**
 * The rule for a ring of `ringBytes` whose lines spill to disk past
 * `spillAt` bytes (undefined without a spool): the pressure mark is half the
 * ring without a spool, half the spill mark with one, and lines are never
 * held when that leaves less than MIN_LAZY_HEADROOM_BYTES of headroom.
 */
export function channelWorkingSet(batch: Pick<BatchOptions, 'maxRecords' | 'maxBytes'>, ringBytes: number, spillAt: number | undefined): ChannelWorkingSet {
  const pressureBytes = spillAt === undefined ? ringBytes / 2 : spillAt / 2
  const headroom = (spillAt ?? ringBytes) - pressureBytes
  return new ChannelWorkingSet(batch, headroom >= MIN_LAZY_HEADROOM_BYTES ? pressureBytes : undefined)
}
