/**
 * The bench's issue-25 service goals (bench/report/goals.ts), judged from the
 * service table's medians: createSluice and pino.transport against pino/file,
 * with the no-op ratio beside, p99 and worker sleeps; a system whose runs all
 * failed is "not measured", never a pass.
 */
import { describe, expect, it } from 'vitest'
import { judgeGoals, serviceGoals } from '../../bench/report/goals.js'
import type { Summary } from '../../bench/report/median.js'
import type { ServiceRow } from '../../bench/service.js'

function row(name: string, reqPerSec: number, p99Ms: number, workerSleepsPerLine: number | null): ServiceRow {
  return {
    name,
    reqPerSec,
    p99Ms,
    appCpuUsPerReq: 30,
    workerCpuUsPerReq: 3,
    processCpuUsPerReq: 34,
    postgresCpuUsPerReq: null,
    workerSleepsPerLine,
    doorbellsPerLine: null,
    ownWakesPerLine: null,
    deliveryP50Ms: null,
    deliveryP99Ms: null,
    lostMax: 0,
    failedRuns: 0,
  }
}

const noop = row('pino → no-op destination', 30_000, 4, null)
const file = row('pino.transport pino/file → /dev/null', 25_000, 5, 0.08)

describe('serviceGoals', () => {
  it('judges req/s against pino/file with the no-op ratio beside, and p99 and sleeps against thread-stream', () => {
    const goals = serviceGoals([noop, file, row('createSluice → Postgres', 26_000, 6, 0.03), row('pino.transport pino-sluice → Postgres', 24_000, 5, 0.05)])
    const byName = Object.fromEntries(goals.map((g) => [g.name, g]))
    expect(byName["service: req/s vs pino/file's [createSluice → Postgres]"]).toMatchObject({ met: true, measured: '1.04× (26,000 vs 25,000; 0.87× the no-op)' })
    expect(byName["service: req/s vs pino/file's [pino.transport pino-sluice → Postgres]"]).toMatchObject({ met: false, measured: '0.96× (24,000 vs 25,000; 0.80× the no-op)' })
    expect(byName["service: p99 vs pino/file's [createSluice → Postgres]"]).toMatchObject({ met: false, measured: '1.20× (6 vs 5 ms)' })
    expect(byName["service: worker sleeps per line vs thread-stream's [createSluice → Postgres]"]).toMatchObject({ met: true, measured: '0.38× (0.030 vs 0.080)' })
  })

  it('a system whose runs all failed (or that did not run) is not measured, not met', () => {
    const goals = serviceGoals([noop, file, row('createSluice → Postgres', Number.NaN, Number.NaN, null)])
    expect(goals.map((g) => [g.measured, g.met])).toEqual(Array.from({ length: 4 }, () => ['not measured', null]))
  })
})

function burst(system: Summary['system'], appThreadUsPerRecord: number, otherThreadsUsPerRecord: number, dropped: number): Summary {
  const values = { emitted: 1000, rowsPerSec: 1, written: 1000 - dropped, dropped, failed: 0, drainMs: 0, rssGrowthMB: 0, peakRssMB: 0, appThreadUsPerRecord, otherThreadsUsPerRecord, serverUsPerRow: 5 }
  return { system, scenario: 'burst', runs: 3, failedRuns: 0, errors: [], nsPerCall: 1000, unaccountedMax: 0, values }
}

describe('the app-process CPU per record goal', () => {
  const goal = (summaries: Summary[]) => judgeGoals(summaries, 1000).find((g) => g.name.startsWith('app-process CPU per record'))

  it('judges createSluice with a ring and channel that hold the burst against the no-op floor, ≤ 3×', () => {
    expect(goal([burst('pino-noop', 0.9, 0.1, 0), burst('create-sluice-big', 1.9, 3.1, 0)])).toMatchObject({ measured: '5.00× (5.0 vs 1.0 µs)', met: false })
    expect(goal([burst('pino-noop', 0.9, 0.1, 0), burst('create-sluice-big', 1.5, 1.4, 0)])).toMatchObject({ measured: '2.90× (2.9 vs 1.0 µs)', met: true })
  })

  it('is not measured, not dropped from the table, when the burst did not fit or the floor did not run', () => {
    expect(goal([burst('pino-noop', 0.9, 0.1, 0), burst('create-sluice-big', 1.9, 3.1, 10)])).toMatchObject({ measured: 'not measured', met: null })
    expect(goal([burst('create-sluice-big', 1.9, 3.1, 0)])).toMatchObject({ measured: 'not measured', met: null })
  })
})
