/** The exit budget's phases as one table (src/pipeline/exit-budget.ts). */
import { describe, expect, it } from 'vitest'
import { exitBudget, finishReserveMs } from '../../src/pipeline/exit-budget.js'

describe('exitBudget', () => {
  it('names each phase end for the default 5 s budget: 1 s kept after the drain', () => {
    expect(exitBudget(5000, 100_000)).toEqual({
      startedAt: 100_000,
      drainEnd: 104_000,
      cutOffEnd: 104_500,
      noticeEnd: 104_500,
      fanoutCloseEnd: 104_500,
      stagesCloseEnd: 104_800,
      storeCloseEnd: 105_000,
      hardEnd: 105_000,
    })
  })

  it('a small budget keeps a quarter for what follows the drain', () => {
    expect(finishReserveMs(400)).toBe(100)
    const phases = exitBudget(400, 0)
    expect(phases).toMatchObject({ drainEnd: 300, noticeEnd: 350, stagesCloseEnd: 375, hardEnd: 400 })
  })

  it('phases come in order and all end by the hard end', () => {
    for (const budget of [0, 1, 50, 999, 4000, 8000]) {
      const p = exitBudget(budget, 0)
      expect(p.startedAt).toBeLessThanOrEqual(p.drainEnd)
      expect(p.drainEnd).toBeLessThanOrEqual(p.cutOffEnd)
      expect(p.cutOffEnd).toBeLessThanOrEqual(p.stagesCloseEnd)
      expect(p.stagesCloseEnd).toBeLessThanOrEqual(p.hardEnd)
      expect(p.storeCloseEnd).toBe(p.hardEnd)
      expect(p.hardEnd).toBe(budget)
    }
  })
})
