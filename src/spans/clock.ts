/**
 * Span times: epoch milliseconds with microsecond resolution, so sibling spans
 * started within the same millisecond still sort in the order they ran.
 * `Date.now()` only has milliseconds; `performance.now()` is finer but drifts
 * from the wall clock over hours (NTP slews one, not the other). So times are
 * monotonic-clock marks plus an anchor, checked at most once a second and
 * moved only when the wall clock has drifted more than 2 ms away.
 */
const RECHECK_MS = 1000
const TOLERANCE_MS = 2

let anchor: number | undefined
let checkedAt = 0

/**
 * Waits (spinning, about 1 ms) for `Date.now()` to tick, so the anchor sits on
 * a millisecond edge instead of up to 1 ms early; then log lines (pino's
 * millisecond `time`) and spans sort in the order they happened. A tick whose
 * moment is uncertain (the thread was preempted between two reads) is not
 * used. Runs on the first span and after the clocks drift apart only.
 */
function calibrate(): number {
  let best: number | undefined
  for (let attempt = 0; attempt < 5; attempt++) {
    let before = performance.now()
    const start = Date.now()
    let wall = start
    let mark = before
    while (wall === start) {
      before = mark
      mark = performance.now()
      wall = Date.now()
    }
    const estimate = wall - mark
    // The tick fell between `before` and just after `mark`.
    if (mark - before < 0.02) {
      best = estimate
      break
    }
    best = best === undefined ? estimate : Math.max(best, estimate)
  }
  checkedAt = performance.now()
  return best as number
}

/** Epoch ms for a `performance.now()` mark. */
export function epochFromMark(mark: number): number {
  if (anchor === undefined) {
    anchor = calibrate()
  } else if (mark - checkedAt > RECHECK_MS) {
    checkedAt = mark
    if (Math.abs(Date.now() - (anchor + mark)) > TOLERANCE_MS) anchor = calibrate()
  }
  return anchor + mark
}
