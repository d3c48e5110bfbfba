// Resolves `options.stats` (issue 7); undefined when absent.
import { resolve } from 'node:path'
import { OptionsError, describe, readInt, readSection, readString, rejectUnknownKeys } from '../options/option-reader.js'

export interface StatsOptions {
  /** Absolute path of the snapshot file, replaced atomically every interval. */
  readonly file: string | undefined
  /** Loopback HTTP port; 0 picks a free one (written into the stats file). Undefined: no HTTP. */
  readonly port: number | undefined
  readonly intervalMs: number
}

export const STATS_KEYS = ['file', 'port', 'intervalMs'] as const

export function resolveStatsOptions(root: Record<string, unknown>): StatsOptions | undefined {
  const section = readSection(root, 'stats', 'stats')
  if (section === undefined) return undefined
  rejectUnknownKeys(section, STATS_KEYS, 'stats')
  const rawFile = readString(section, 'file', 'stats')
  const port = section.port === undefined ? undefined : readInt(section, 'port', 'stats', 0, { min: 0, max: 65535, unit: '0 picks a free port' })
  const intervalMs = readInt(section, 'intervalMs', 'stats', 1000, { min: 50, max: 3_600_000, unit: 'ms' })
  if (rawFile === undefined && port === undefined) {
    throw new OptionsError(`options.stats needs a file, a port or both, got ${describe(section)} with neither. Set stats.file to a path (e.g. "/tmp/app.sluice.json") and/or stats.port (0 picks a free port).`)
  }
  // A directory that does not exist (yet) is not a config mistake worth stopping the app for: the
  // publisher reports it once on stderr, keeps logging, and starts writing once the directory appears.
  const file = rawFile === undefined ? undefined : resolve(rawFile)
  return { file, port, intervalMs }
}
