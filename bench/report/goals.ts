import { SYSTEM_LABELS, type SystemName } from '../bench-spec.js'
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
const ratio = (a: number | null | undefined, b: number | null | undefined): number | undefined => (a == null || b == null || b === 0 ? undefined : a / b)

/** The goals of issue 7, judged on the burst scenario medians, for each pino-sluice variant measured. */
export function judgeGoals(summaries: readonly Summary[], burstRecords: number): Goal[] {
  const file = find(summaries, 'burst', 'pino-file')
  const copy = find(summaries, 'burst', 'raw-copy')
  const peer = find(summaries, 'burst', 'pino-postgres')
  const goals: Goal[] = []
  const variants: SystemName[] = ['pino-sluice', 'pino-sluice-sync', 'pino-sluice-big']
  for (const variant of variants) {
    const sluice = find(summaries, 'burst', variant)
    if (!sluice) continue
    const who = variant === 'pino-sluice' ? '' : ` [${SYSTEM_LABELS[variant]}]`
    const mainThread = ratio(sluice.nsPerCall, file?.nsPerCall)
    goals.push({ name: `main-thread cost vs pino/file${who}`, target: '≤ 1.10×', measured: mainThread === undefined ? 'n/a' : x(mainThread), met: mainThread === undefined ? null : mainThread <= 1.1 })
    const endToEnd = ratio(sluice.values.rowsPerSec, copy?.values.rowsPerSec)
    goals.push({ name: `end-to-end rows/s vs raw COPY${who}`, target: '≥ 0.80×', measured: endToEnd === undefined ? 'n/a' : x(endToEnd), met: endToEnd === undefined ? null : endToEnd >= 0.8 })
    const vsPeer = ratio(sluice.values.rowsPerSec, peer?.values.rowsPerSec)
    goals.push({
      name: `rows/s vs pino-postgres, zero unaccounted${who}`,
      target: '≥ 20×, 0',
      measured: `${vsPeer === undefined ? 'n/a' : x(vsPeer)}, unaccounted ${sluice.unaccountedMax ?? 'n/a'}`,
      met: vsPeer === undefined ? null : vsPeer >= 20 && sluice.unaccountedMax === 0,
    })
    const rss = sluice.values.rssGrowthMB
    goals.push({ name: `app RSS growth during the ${burstRecords.toLocaleString('en-US')} burst${who}`, target: '≤ 64 MB', measured: `${rss.toFixed(1)} MB`, met: rss <= 64 })
    const drain = sluice.values.drainMs
    goals.push({ name: `drain after the last call${who}`, target: '< 5 s', measured: `${(drain / 1000).toFixed(2)} s`, met: drain < 5000 })
  }
  return goals
}
