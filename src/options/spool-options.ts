// Resolves `options.spool` (issue 24): undefined (no spool) unless `dir` is given.
import { resolve } from 'node:path'
import { OptionsError, describe, readInt, readSection, readString, rejectUnknownKeys } from '../../sinks/shared/option-reader.js'

const MiB = 1024 * 1024

export interface SpoolOptions {
  /** Absolute path; each process works in a directory of its own under it. */
  readonly dir: string
  /** Bytes of segment files the spool may hold; appends past it are dropped as `dropped_spool_full`. */
  readonly maxBytes: number
}

export const SPOOL_KEYS = ['dir', 'maxBytes'] as const

export function resolveSpoolOptions(root: Record<string, unknown>): SpoolOptions | undefined {
  const section = readSection(root, 'spool', 'spool')
  if (section === undefined) return undefined
  rejectUnknownKeys(section, SPOOL_KEYS, 'spool')
  const dir = readString(section, 'dir', 'spool')
  if (dir === undefined) {
    throw new OptionsError(
      `options.spool needs a dir, got ${describe(section)} without one. Set spool.dir to a directory on a local disk (e.g. "/var/lib/myapp/sluice-spool"), or omit spool to keep records in memory only.`,
    )
  }
  return Object.freeze({
    dir: resolve(dir),
    maxBytes: readInt(section, 'maxBytes', 'spool', 1024 * MiB, { min: MiB, max: Number.MAX_SAFE_INTEGER, unit: 'bytes, at least 1 MiB' }),
  })
}
