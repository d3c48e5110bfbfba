/** The ring pump's rule for how many lines to move into the channel (src/transport/channel-working-set.ts). */
import { describe, expect, it } from 'vitest'
import { channelWorkingSet, MIN_LAZY_HEADROOM_BYTES } from '../../src/transport/channel-working-set.js'

const MiB = 1024 * 1024
const batch = { maxRecords: 5000, maxBytes: 8 * MiB }
const channel = (length: number, bytes = length * 200) => ({ length, bytes })

describe('channelWorkingSet', () => {
  it('without a spool: tops the channel up to a full batch, then leaves lines in the ring until it is more than half full', () => {
    const rule = channelWorkingSet(batch, 32 * MiB, undefined)
    expect(rule.wanted(channel(0), 1000)).toBe(5000)
    expect(rule.wanted(channel(4000), 1000)).toBe(1000)
    expect(rule.wanted(channel(5000), 16 * MiB)).toBe(0)
    expect(rule.wanted(channel(9000), 16 * MiB)).toBe(0)
    expect(rule.wanted(channel(5000), 16 * MiB + 1)).toBe(Number.POSITIVE_INFINITY)
  })

  it('a full batch is batch.maxBytes too: a channel holding that many bytes in fewer lines gets no more', () => {
    const rule = channelWorkingSet(batch, 32 * MiB, undefined)
    expect(rule.wanted(channel(100, 8 * MiB), 1000)).toBe(0)
    expect(rule.wanted(channel(100, 8 * MiB - 1), 1000)).toBe(4900)
  })

  it('with a spool: the pressure mark is half the spill mark, so the channel fills before lines spill', () => {
    const spillAt = 8 * MiB
    const rule = channelWorkingSet(batch, 32 * MiB, spillAt)
    expect(rule.wanted(channel(5000), 4 * MiB)).toBe(0)
    expect(rule.wanted(channel(5000), 4 * MiB + 1)).toBe(Number.POSITIVE_INFINITY)
  })

  it('never leaves lines in a ring whose headroom above the mark is under MIN_LAZY_HEADROOM_BYTES', () => {
    expect(channelWorkingSet(batch, 2 * MIN_LAZY_HEADROOM_BYTES, undefined).wanted(channel(9000), 1)).toBe(0)
    expect(channelWorkingSet(batch, 2 * MIN_LAZY_HEADROOM_BYTES - 4, undefined).wanted(channel(9000), 1)).toBe(Number.POSITIVE_INFINITY)
    // The default ring (32 MiB) with a spool (spill mark a quarter): 4 MiB between the marks.
    expect(channelWorkingSet(batch, 32 * MiB, 8 * MiB).wanted(channel(9000), 1)).toBe(0)
    expect(channelWorkingSet(batch, 16 * MiB, 4 * MiB).wanted(channel(9000), 1)).toBe(Number.POSITIVE_INFINITY)
  })
})
