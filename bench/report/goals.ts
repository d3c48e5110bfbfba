import type { Summary } from './median.js'

export interface Goal {
  name: string
  target: string
  measured: string
  met: boolean | null
}

function find(summaries: readonly Summary[], scenario: string, system: string): Summary | undefined {
  return summaries.find((s) => s.scenario === scenario && s.system === system && s.runs > 0)
}

const x = (v: number): string => `${v.toFixed(2)}×`

/** The goals of issue 7, judged on the burst scenario medians (null: not measured in this run). */
export function judgeGoals(summaries: readonly Summary[], burstRecords: number): Goal[] {
  const sluice = find(summaries, 'burst', 'pino-sluice')
  const file = find(summaries, 'burst', 'pino-file')
  const copy = find(summaries, 'burst', 'raw-copy')
  const peer = find(summaries, 'burst', 'pino-postgres')
  const goals: Goal[] = []
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | undefined => (a == null || b == null || b === 0 ? undefined : a / b)
  const mainThread = ratio(sluice?.nsPerCall, file?.nsPerCall)
  goals.push({ name: 'main-thread cost vs pino/file (burst)', target: '≤ 1.10×', measured: mainThread === undefined ? 'n/a' : x(mainThread), met: mainThread === undefined ? null : mainThread <= 1.1 })
  const endToEnd = ratio(sluice?.values.rowsPerSec, copy?.values.rowsPerSec)
  goals.push({ name: 'end-to-end rows/s vs raw COPY (burst)', target: '≥ 0.80×', measured: endToEnd === undefined ? 'n/a' : x(endToEnd), met: endToEnd === undefined ? null : endToEnd >= 0.8 })
  const vsPeer = ratio(sluice?.values.rowsPerSec, peer?.values.rowsPerSec)
  const unaccounted = sluice?.unaccountedMax
  goals.push({
    name: 'throughput vs pino-postgres, zero unaccounted (burst)',
    target: '≥ 20×, 0',
    measured: vsPeer === undefined ? 'n/a' : `${x(vsPeer)}, unaccounted ${unaccounted ?? 'n/a'}`,
    met: vsPeer === undefined ? null : vsPeer >= 20 && unaccounted === 0,
  })
  const rss = sluice?.values.rssGrowthMB
  goals.push({ name: `app RSS growth during a ${burstRecords.toLocaleString('en-US')} burst`, target: '≤ 64 MB', measured: rss === undefined ? 'n/a' : `${rss.toFixed(1)} MB`, met: rss === undefined ? null : rss <= 64 })
  const drain = sluice?.values.drainMs
  goals.push({ name: 'drain after the last call (burst)', target: '< 5 s', measured: drain === undefined ? 'n/a' : `${(drain / 1000).toFixed(2)} s`, met: drain === undefined ? null : drain < 5000 })
  return goals
}
