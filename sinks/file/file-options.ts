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
}

export const FILE_KEYS = ['path', 'maxBytes', 'maxFiles'] as const

/** `where` is where the user wrote the section, after `options.` (`file`, `sinks[0].options`), for the messages. */
export function readFileSinkOptions(section: Record<string, unknown>, where: string): FileSinkOptions {
  rejectUnknownKeys(section, FILE_KEYS, where)
  const path = section.path
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new OptionsError(`options.${where}.path must be an absolute file path such as '/var/log/app/logs.ndjson', got ${describe(path)}.`)
  }
  return Object.freeze({
    path,
    maxBytes: readInt(section, 'maxBytes', where, 64 * MiB, { min: 1024, max: 64 * 1024 * MiB, unit: 'bytes' }),
    maxFiles: readInt(section, 'maxFiles', where, 5, { min: 0, max: 1000 }),
  })
}

export function resolveFileOptions(root: Record<string, unknown>): FileSinkOptions | undefined {
  const section = readSection(root, 'file', 'file')
  return section ? readFileSinkOptions(section, 'file') : undefined
}
