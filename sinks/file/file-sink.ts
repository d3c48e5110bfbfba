/**
 * The NDJSON file sink: appends each batch to a file, one JSON line per
 * record, and rotates by size. The built-in alternative to Postgres as the
 * store of record (`options.file`), and a fan-out sink for shipping logs
 * elsewhere (`sinks: [{ target: 'pino-sluice/file', options: { path } }]`).
 *
 *   batch ─► lines ─► fits in maxBytes? ─ yes ─► append to <path>
 *                                       └ no ──► rotate: <path>.(n-1) → <path>.n … <path> → <path>.1, then append
 *
 * No fsync per batch (like synchronous_commit off): a line is written once
 * the OS has it, which survives the process, not a power cut. close() syncs.
 */
import { constants } from 'node:fs'
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { LogRecord } from '../shared/log-record.js'
import type { Sink, SinkFactory, SinkResult } from '../sink.js'
import { readFileSinkOptions, type FileSinkOptions } from './file-options.js'

function errorText(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return e.code ? `${e.code}: ${e.message}` : error instanceof Error ? error.message : String(error)
}

export class FileSink implements Sink {
  private file: FileHandle | undefined
  private size = 0
  /** Appends run one at a time, in the order they were asked for. */
  private chain: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: FileSinkOptions) {}

  async start(): Promise<void> {
    await this.openFile()
  }

  write(records: readonly LogRecord[]): Promise<SinkResult> {
    const run = this.chain.then(() => this.append(records))
    this.chain = run.catch(() => {})
    return run
  }

  async close(): Promise<void> {
    await this.chain
    const file = this.file
    this.file = undefined
    if (!file) return
    await file.datasync().catch(() => {})
    await file.close()
  }

  private async openFile(): Promise<FileHandle> {
    if (this.file) return this.file
    const { path, mode, directoryMode } = this.options
    await mkdir(dirname(path), { recursive: true, mode: directoryMode })
    const file = await openForAppend(path, mode)
    this.size = (await file.stat()).size
    this.file = file
    return file
  }

  private async append(records: readonly LogRecord[]): Promise<SinkResult> {
    let rejected = 0
    const lines: Buffer[] = []
    for (const record of records) {
      try {
        lines.push(Buffer.from(`${JSON.stringify(record.value)}\n`))
      } catch {
        rejected++ // not serializable (a stage put something odd in it): this record only
      }
    }
    let delivered = 0
    try {
      const { maxBytes } = this.options
      let chunk: Buffer[] = []
      let chunkBytes = 0
      for (const line of lines) {
        // Rotate before a line would take the file past maxBytes; a single line larger than maxBytes gets a file of its own.
        if (this.size + chunkBytes + line.length > maxBytes && this.size + chunkBytes > 0) {
          delivered += await this.appendChunk(chunk, chunkBytes)
          chunk = []
          chunkBytes = 0
          await this.rotate()
        }
        chunk.push(line)
        chunkBytes += line.length
      }
      delivered += await this.appendChunk(chunk, chunkBytes)
      return { delivered, rejected }
    } catch (error) {
      // The file is gone, the disk is full, ...: reopen at the next batch.
      await this.file?.close().catch(() => {})
      this.file = undefined
      return { delivered, rejected, unavailable: records.length - delivered - rejected, reason: `cannot append to ${this.options.path}: ${errorText(error)}` }
    }
  }

  private async appendChunk(chunk: Buffer[], bytes: number): Promise<number> {
    if (chunk.length === 0) return 0
    const file = await this.openFile()
    await file.write(Buffer.concat(chunk, bytes))
    this.size += bytes
    return chunk.length
  }

  /** <path>.(n-1) → <path>.n, …, <path> → <path>.1; with maxFiles 0 the file is simply started over. */
  private async rotate(): Promise<void> {
    const { path, maxFiles } = this.options
    await this.file?.close()
    this.file = undefined
    if (maxFiles === 0) {
      await rm(path, { force: true })
    } else {
      for (let i = maxFiles - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(ignoreMissing)
      await rename(path, `${path}.1`).catch(ignoreMissing)
    }
    this.size = 0
  }
}

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL } = constants
/** Windows has no O_NOFOLLOW; there O_EXCL alone keeps a new file from being a link's target. */
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0

/**
 * Opens `path` for appending without ever following a symlink there (issue 27
 * item 10: a link planted at the path sent the logs into someone else's file).
 * A file this call creates gets exactly `mode`, whatever the umask; an
 * existing file keeps its own.
 */
async function openForAppend(path: string, mode: number): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      const created = await open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
      await created.chmod(mode).catch(async (error: unknown) => {
        await created.close()
        throw error
      })
      return created
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw explainLink(error, path)
    }
    try {
      return await open(path, O_WRONLY | O_APPEND | O_NOFOLLOW)
    } catch (error) {
      // Deleted between the two opens (a rotation by hand): create it after all.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue
      throw explainLink(error, path)
    }
  }
}

/** ELOOP from O_NOFOLLOW means a link at the path: say so in words, naming it. */
function explainLink(error: unknown, path: string): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'ELOOP') return error
  return Object.assign(
    new Error(`${path} is a symbolic link; the file sink never follows one (a link planted there would send the logs into another file). Point the path at the real file, or remove the link`),
    { code: 'ELOOP' },
  )
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error
}

/** For `sinks: [{ target: 'pino-sluice/file', options: { path, maxBytes, maxFiles } }]`. */
const createFileSink: SinkFactory = (options, setup) => new FileSink(readFileSinkOptions(options, setup.optionsPath.replace(/^options\./, '')))
export default createFileSink
export { createFileSink as createSink }

