/**
 * Resolves the options of the NDJSON file sink (`options.file` as the store of
 * record, or `{ target: 'pino-sluice/file', options }` as a fan-out sink).
 */
import { isAbsolute } from 'node:path'
import { OptionsError, describe, readInt, readSection, rejectUnknownKeys } from '../shared/option-reader.js'

const MiB = 1024 * 1024

export interface FileSinkOptions {
  /** Absolute path of the live file; rotated files are `<path>.1` (newest) … `<path>.<maxFiles>`. */
  readonly path: string
  /** The live file is rotated before a batch would take it past this size. */
  readonly maxBytes: number
  /** Rotated files kept; older ones are deleted. 0 keeps none (the file is truncated on rotation). */
  readonly maxFiles: number
  /** Permission bits of each log file the sink creates (exactly these, whatever the umask). */
  readonly mode: number
  /** Permission bits of the directories it creates: the file's read bits, with search (x) added. */
  readonly directoryMode: number
}

export const FILE_KEYS = ['path', 'maxBytes', 'maxFiles', 'mode'] as const

/**
 * Owner only: logs end up holding what apps should never have logged
 * (tokens, passwords, personal data), so nobody else reads them unless the
 * operator says so (0o640 for a log shipper in the file's group).
 */
export const DEFAULT_FILE_MODE = 0o600

/** A mode as a number (0o640) or, for JSON configs that have no octal literals, a string of octal digits ('0640'). */
function readMode(section: Record<string, unknown>, where: string): number {
  const value = section.mode
  if (value === undefined) return DEFAULT_FILE_MODE
  const mode = typeof value === 'number' ? value : typeof value === 'string' && /^0?o?[0-7]{3}$/.test(value) ? Number.parseInt(value.replace(/^0?o?/, ''), 8) : Number.NaN
  const fix = `Write it in octal: 0o600 (the default: owner only) or 0o640 (owner, and read by the file's group), or the string '0640'.`
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    const decimal = typeof value === 'number' && /^[0-7]{3}$/.test(String(value)) ? ` ${value} is decimal here (0o${value.toString(8)}).` : ''
    throw new OptionsError(`options.${where}.mode must be permission bits between 0o000 and 0o777, got ${describe(value)}.${decimal} ${fix}`)
  }
  if ((mode & 0o600) !== 0o600) {
    throw new OptionsError(`options.${where}.mode must let the owner read and write (0o600 at least), got 0o${mode.toString(8).padStart(3, '0')}: the sink reopens its file after a restart. ${fix}`)
  }
  return mode
}

/** A directory readable by whoever may read the file: each read bit (r) of the file gives r-x on the directory. */
function directoryModeFor(mode: number): number {
  return 0o700 | (mode & 0o040 ? 0o050 : 0) | (mode & 0o004 ? 0o005 : 0)
}

/** `where` is where the user wrote the section, after `options.` (`file`, `sinks[0].options`), for the messages. */
export function readFileSinkOptions(section: Record<string, unknown>, where: string): FileSinkOptions {
  rejectUnknownKeys(section, FILE_KEYS, where)
  const path = section.path
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new OptionsError(`options.${where}.path must be an absolute file path such as '/var/log/app/logs.ndjson', got ${describe(path)}.`)
  }
  const mode = readMode(section, where)
  return Object.freeze({
    path,
    maxBytes: readInt(section, 'maxBytes', where, 64 * MiB, { min: 1024, max: 64 * 1024 * MiB, unit: 'bytes' }),
    maxFiles: readInt(section, 'maxFiles', where, 5, { min: 0, max: 1000 }),
    mode,
    directoryMode: directoryModeFor(mode),
  })
}

export function resolveFileOptions(root: Record<string, unknown>): FileSinkOptions | undefined {
  const section = readSection(root, 'file', 'file')
  return section ? readFileSinkOptions(section, 'file') : undefined
}
