// Owned by the stats/tail work (issue 7). Resolves `options.stats`; undefined when absent.
import { OptionsError } from '../options/option-reader.js'

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StatsOptions {}

export function resolveStatsOptions(root: Record<string, unknown>): StatsOptions | undefined {
  if (root.stats === undefined) return undefined
  throw new OptionsError('options.stats is not supported yet')
}
