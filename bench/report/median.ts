import type { RunResult } from '../run-one.js'

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

type NumericKey = 'emitted' | 'rowsPerSec' | 'written' | 'dropped' | 'failed' | 'drainMs' | 'rssGrowthMB' | 'peakRssMB' | 'appThreadUsPerRecord' | 'otherThreadsUsPerRecord' | 'serverUsPerRow'

/** The median of every figure over the repeats of one system in one scenario (failed runs left out). */
export interface Summary {
  system: RunResult['system']
  scenario: RunResult['scenario']
  runs: number
  failedRuns: number
  errors: string[]
  nsPerCall: number | null
  /** Worst repeat, not the median: one lost record in any run matters. */
  unaccountedMax: number | null
  values: Record<NumericKey, number>
}

export function summarize(runs: readonly RunResult[]): Summary {
  const ok = runs.filter((r) => r.error === undefined)
  const first = runs[0] as RunResult
  // NaN marks a figure a run could not measure (results written before it existed have none): left out.
  const pick = (key: NumericKey): number => median(ok.map((r) => r[key] ?? Number.NaN).filter((v) => !Number.isNaN(v)))
  const ns = ok.map((r) => r.nsPerCall).filter((v): v is number => v !== null)
  const unaccounted = ok.map((r) => r.unaccounted).filter((v): v is number => v !== null)
  return {
    system: first.system,
    scenario: first.scenario,
    runs: ok.length,
    failedRuns: runs.length - ok.length,
    errors: runs.flatMap((r) => (r.error ? [r.error] : [])),
    nsPerCall: ns.length > 0 ? median(ns) : null,
    unaccountedMax: unaccounted.length > 0 ? Math.max(...unaccounted) : null,
    values: {
      emitted: pick('emitted'),
      rowsPerSec: pick('rowsPerSec'),
      written: pick('written'),
      dropped: pick('dropped'),
      failed: pick('failed'),
      drainMs: pick('drainMs'),
      rssGrowthMB: pick('rssGrowthMB'),
      peakRssMB: pick('peakRssMB'),
      appThreadUsPerRecord: pick('appThreadUsPerRecord'),
      otherThreadsUsPerRecord: pick('otherThreadsUsPerRecord'),
      serverUsPerRow: pick('serverUsPerRow'),
    },
  }
}
