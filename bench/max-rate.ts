import type { BenchConfig } from './bench-config.js'
import type { BenchSql } from './bench-database.js'
import type { SystemName } from './bench-spec.js'
import { runOne, type RunResult } from './run-one.js'

export interface MaxRateStep {
  rate: number
  /** Rows committed per second over the step (first call until committed). */
  rowsPerSec: number
  written: number
  dropped: number
  failed: number
  unaccounted: number | null
  error?: string
}

export interface MaxRateResult {
  system: SystemName
  stepSeconds: number
  steps: MaxRateStep[]
  /** The highest rate tried with nothing dropped, failed or unaccounted; 0 when even the first step lost records. */
  highest: number
}

/**
 * Sustained means nothing lost and kept up with: committed at ≥ 90% of the
 * rate over the step (a backlog that drains after the last call, or an app
 * thread that could not log that fast, shows as a lower committed rate).
 */
const sustained = (r: RunResult, rate: number): boolean =>
  r.error === undefined && r.dropped === 0 && r.failed === 0 && r.unaccounted === 0 && r.rowsPerSec >= 0.9 * rate

/**
 * The highest sustained rate with 0 drops under the defaults: the sustained
 * scenario at each rate of `config.maxRateSteps` in turn, stopping at the
 * first step that loses anything or falls behind (a higher rate would only do worse).
 */
export async function findMaxSustainedRate(
  config: BenchConfig,
  sql: BenchSql,
  databaseUrl: string,
  system: SystemName,
  progress: (line: string) => void,
): Promise<MaxRateResult> {
  const steps: MaxRateStep[] = []
  let highest = 0
  for (const rate of config.maxRateSteps) {
    const stepConfig: BenchConfig = { ...config, rate, seconds: config.stepSeconds }
    const r = await runOne(stepConfig, sql, databaseUrl, 'sustained', system, 1)
    steps.push({ rate, rowsPerSec: r.rowsPerSec, written: r.written, dropped: r.dropped, failed: r.failed, unaccounted: r.unaccounted, error: r.error })
    progress(`  ${rate.toLocaleString('en-US')} rec/s for ${config.stepSeconds} s: ${r.error ? `FAILED: ${r.error}` : `written ${r.written.toLocaleString('en-US')}, dropped ${r.dropped.toLocaleString('en-US')}, failed ${r.failed}, unaccounted ${r.unaccounted ?? 'n/a'}, ${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s`}\n`)
    if (!sustained(r, rate)) break
    highest = rate
  }
  return { system, stepSeconds: config.stepSeconds, steps, highest }
}
