// Resolves `options.stats` (issue 7); undefined when absent.
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { OptionsError, describe, readInt, readSection, readString, rejectUnknownKeys } from '../../sinks/shared/option-reader.js'

export interface StatsOptions {
  /** Absolute path of the snapshot file, replaced atomically every interval. */
  readonly file: string | undefined
  /** HTTP port (on `host`); 0 picks a free one (written into the stats file). Undefined: no HTTP. */
  readonly port: number | undefined
  /** The address the HTTP endpoint binds to; 127.0.0.1 unless a scrape from elsewhere needs it. */
  readonly host: string
  readonly intervalMs: number
}

export const STATS_KEYS = ['file', 'port', 'host', 'intervalMs'] as const

export const DEFAULT_STATS_HOST = '127.0.0.1'

/** A DNS name: labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** `stats.host`: an IP address or a DNS name, as `server.listen()` takes it (IPv6 without brackets). */
function readHost(section: Record<string, unknown>, hasPort: boolean): string {
  const value = readString(section, 'host', 'stats')
  if (value === undefined) return DEFAULT_STATS_HOST
  if (!hasPort) throw new OptionsError(`options.stats.host is set (${describe(value)}) but stats.port is not: the host is where the HTTP endpoint listens. Set stats.port too, or remove stats.host.`)
  const bracketed = /^\[(.*)\]$/.exec(value)
  if (bracketed && isIP(bracketed[1] ?? '') === 6) {
    throw new OptionsError(`options.stats.host takes an IPv6 address without brackets, got ${describe(value)}. Write '${bracketed[1]}'.`)
  }
  if (isIP(value) === 0 && !HOST_NAME.test(value)) {
    throw new OptionsError(
      `options.stats.host must be an IP address or a host name (no scheme, port or path), got ${describe(value)}. Leave it out for '127.0.0.1' (this machine only), or e.g. '0.0.0.0' for a scrape from inside the cluster (read the warning in docs/metrics.md first).`,
    )
  }
  return value.toLowerCase()
}

export function resolveStatsOptions(root: Record<string, unknown>): StatsOptions | undefined {
  const section = readSection(root, 'stats', 'stats')
  if (section === undefined) return undefined
  rejectUnknownKeys(section, STATS_KEYS, 'stats')
  const rawFile = readString(section, 'file', 'stats')
  const port = section.port === undefined ? undefined : readInt(section, 'port', 'stats', 0, { min: 0, max: 65535, unit: '0 picks a free port' })
  const host = readHost(section, port !== undefined)
  const intervalMs = readInt(section, 'intervalMs', 'stats', 1000, { min: 50, max: 3_600_000, unit: 'ms' })
  if (rawFile === undefined && port === undefined) {
    throw new OptionsError(`options.stats needs a file, a port or both, got ${describe(section)} with neither. Set stats.file to a path (e.g. "/tmp/app.sluice.json") and/or stats.port (0 picks a free port).`)
  }
  // A directory that does not exist (yet) is not a config mistake worth stopping the app for: the
  // publisher reports it once on stderr, keeps logging, and starts writing once the directory appears.
  const file = rawFile === undefined ? undefined : resolve(rawFile)
  return { file, port, host, intervalMs }
}
