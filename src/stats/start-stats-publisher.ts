// Owned by the stats/tail work (issue 7): publishes counters to a file and/or loopback HTTP.
import type { Counters } from '../counters/counters.js'
import type { StatsOptions } from './stats-options.js'

export interface StatsPublisher {
  /** Publishes a last snapshot and releases the file/port. */
  close(): Promise<void>
}

export function startStatsPublisher(_options: StatsOptions | undefined, _counters: Counters): StatsPublisher | undefined {
  return undefined
}
