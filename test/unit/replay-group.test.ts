/** Which spooled frames replay may write in one transaction: the commit ledger's ranges must not span a frame left out. */
import { describe, expect, it } from 'vitest'
import { joinsGroup } from '../../src/spool/replayer.js'

const frame = (firstSeq: number, count: number, writerId = 'w1', stagesRan = false) => ({ writerId, stagesRan, firstSeq, lines: Array.from({ length: count }, () => '{}') })

describe('joinsGroup', () => {
  it('joins the frame that holds the very next seqs of the same writer and stage history', () => {
    expect(joinsGroup(frame(1, 100), frame(101, 50))).toBe(true)
  })

  it('refuses a frame out of seq order: a batch spooled after its retry budget, behind raw spills of later lines', () => {
    // Lines 1001-2000 were spilled raw first; the batch 1-1000 reached the spool after them.
    expect(joinsGroup(frame(1001, 1000), frame(1, 1000))).toBe(false)
    // A gap: 101-200 is elsewhere (another frame, or written); a range 1-300 would claim it committed.
    expect(joinsGroup(frame(1, 100), frame(201, 100))).toBe(false)
  })

  it('refuses another writer (an earlier process) or another stage history', () => {
    expect(joinsGroup(frame(1, 100), frame(101, 100, 'w2'))).toBe(false)
    expect(joinsGroup(frame(1, 100), frame(101, 100, 'w1', true))).toBe(false)
  })
})
