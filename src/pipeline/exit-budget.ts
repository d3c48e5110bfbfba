/**
 * The exit budget's phases, in one table. `exit.budgetMs` covers everything
 * close does; the drain gets the budget minus a reserve, and the reserve is
 * shared by what follows it, each phase ending by the time named here:
 *
 *   start ─ drain (retries end) ─┬─ in-flight batches cut off and counted ─┐
 *                                │  last drop notice, fan-out close ───────┤
 *                                │  stages close (last metrics send) ──────┼─ hard end
 *                                └─ store close (final stats row, connections)
 */

/** The reserve after the drain: this much, or a quarter of a smaller budget. */
const FINISH_RESERVE_MS = 1000
/** The stages' close ends this much before the hard end (or a sixteenth of a smaller budget), leaving the store its last moment. */
const STAGES_MARGIN_MS = 200

export interface ExitBudget {
  /** Epoch ms the exit started. */
  readonly startedAt: number
  /** The drain ends and retries stop: lines still queued then are dropped as exit_timeout. */
  readonly drainEnd: number
  /** Batches still in flight after the drain settle by then (else they count as failed). */
  readonly cutOffEnd: number
  /** The last drop notice row (only while the store answers). */
  readonly noticeEnd: number
  /** Fan-out sinks' close, and what they still have counted. */
  readonly fanoutCloseEnd: number
  /** Stages' close (CloudWatch's last send). */
  readonly stagesCloseEnd: number
  /** The store's close (final stats row, ending connections). */
  readonly storeCloseEnd: number
  /** Everything is over: the store is cut off whatever it still does. */
  readonly hardEnd: number
}

/** The part of an exit budget kept for what follows the drain. */
export function finishReserveMs(budgetMs: number): number {
  return Math.min(FINISH_RESERVE_MS, budgetMs / 4)
}

export function exitBudget(budgetMs: number, startedAt = Date.now()): ExitBudget {
  const hardEnd = startedAt + budgetMs
  const reserve = finishReserveMs(budgetMs)
  const half = hardEnd - reserve / 2
  return Object.freeze({
    startedAt,
    drainEnd: hardEnd - reserve,
    cutOffEnd: half,
    noticeEnd: half,
    fanoutCloseEnd: half,
    stagesCloseEnd: hardEnd - Math.min(STAGES_MARGIN_MS, reserve / 4),
    storeCloseEnd: hardEnd,
    hardEnd,
  })
}
