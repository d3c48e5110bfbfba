import type { Counters } from '../counters/counters.js'

/** One stderr line with the totals, printed on close only when something was lost. */
export function exitReport(counters: Counters): string | undefined {
  const dropped = counters.dropped()
  const failed = counters.failed()
  if (dropped + failed === 0) return undefined
  const reasons = Object.entries(counters.values)
    .filter(([name, value]) => value > 0 && (name.startsWith('dropped_') || name.startsWith('failed_')))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')
  const { received, written } = counters.values
  return `pino-sluice: received=${received} written=${written} dropped=${dropped} failed=${failed} (${reasons})\n`
}
