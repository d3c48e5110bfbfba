/** Consecutive seqs: what one spool frame holds. */
export interface SeqRun {
  readonly first: number
  readonly count: number
}

/**
 * `seqs` (ascending) as runs of consecutive seqs. The records a store could
 * not take are spooled one frame per run: the commit ledger records a
 * transaction as the range from its first seq to its last, so a frame (and
 * a replayed group) must hold every seq in between (see joinsGroup).
 */
export function seqRuns(seqs: readonly number[]): SeqRun[] {
  const runs: { first: number; count: number }[] = []
  for (const seq of seqs) {
    const last = runs[runs.length - 1]
    if (last && seq === last.first + last.count) last.count++
    else runs.push({ first: seq, count: 1 })
  }
  return runs
}
