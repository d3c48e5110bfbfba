import { workerProfile } from '../shared/worker-profile.js'
import type { Sql } from './connect.js'
import type { LogColumns, LogRow } from './log-row.js'
import type { TableNames } from './table-names.js'

const LOG_COLUMNS = ['time', 'level', 'msg', 'hostname', 'pid', 'writer_id', 'seq', 'trace_id', 'span_id', 'data']
const COPY_NULL = '\\N'
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** A value in COPY's text format: backslash, newline, CR and tab escaped. */
export function copyText(value: string | null): string {
  if (value === null) return COPY_NULL
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => TEXT_ESCAPES[c] as string) : value
}

/** `copyText` for a value that repeats row after row (a process's hostname, the writer id): the last answer is kept. */
function repeatingCopyText(): (value: string | null) => string {
  let last: string | null = null
  let lastText = COPY_NULL
  return (value) => {
    if (value !== last) {
      last = value
      lastText = copyText(value)
    }
    return lastText
  }
}
const hostnameText = repeatingCopyText()
const writerText = repeatingCopyText()

/** JSON text holds no raw newline or tab; only its backslashes need doubling. */
function copyJson(value: unknown): string {
  const json = JSON.stringify(value)
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json
}

/**
 * ISO time with the text up to the second reused: the records of a batch
 * mostly share their second, and toISOString is a large part of encoding.
 */
let cachedSecond = Number.NaN
let cachedPrefix = ''
function copyTime(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond || !Number.isInteger(ms)) {
    const iso = new Date(ms).toISOString()
    if (!Number.isInteger(ms)) return iso
    cachedSecond = second
    cachedPrefix = iso.slice(0, iso.length - 4)
  }
  return `${cachedPrefix}${String(ms - second * 1000).padStart(3, '0')}Z`
}

/** The ISO text up to the second (`2024-11-30T20:53:20.`) as bytes, for writeCopyTime: kept while rows share their second, as copyTime keeps its text. */
const prefixBytes = Buffer.alloc(20)
let prefixSecond = Number.NaN

/** Writes `copyTime(ms)` into `buf` at `at` as bytes; returns where it ends. */
export function writeCopyTime(buf: Buffer, at: number, ms: number): number {
  const second = Math.floor(ms / 1000)
  if (second !== prefixSecond || !Number.isInteger(ms)) {
    const iso = copyTime(ms)
    // Not a whole ms, or a year of other than four digits: written as text.
    if (!Number.isInteger(ms) || iso.length !== 24) return at + buf.write(iso, at, 'latin1')
    prefixBytes.write(iso, 0, 20, 'latin1')
    prefixSecond = second
  }
  // A loop: Buffer.copy's call costs more than copying 20 bytes.
  for (let i = 0; i < 20; i++) buf[at + i] = prefixBytes[i] as number
  const milli = ms - second * 1000
  buf[at + 20] = 0x30 + Math.floor(milli / 100)
  buf[at + 21] = 0x30 + (Math.floor(milli / 10) % 10)
  buf[at + 22] = 0x30 + (milli % 10)
  buf[at + 23] = 0x5a // Z
  return at + 24
}

/** One COPY row: `columns`, then `dataText` (the data column's JSON, already in COPY's text format). */
export function encodeCopyColumns(columns: LogColumns, dataText: string): string {
  const { t, level, msg, hostname, pid, writer_id, seq, trace_id, span_id } = columns
  return `${copyTime(t)}\t${level}\t${copyText(msg)}\t${hostnameText(hostname)}\t${pid ?? COPY_NULL}\t${writerText(writer_id)}\t${seq}\t${copyText(trace_id)}\t${copyText(span_id)}\t${dataText}\n`
}

export function encodeCopyRow(row: LogRow): string {
  return encodeCopyColumns(row, copyJson(row.data))
}

type Callback = (error?: Error | null) => void

/** The parts of postgres.js's COPY stream we guard (Node's Writable keeps the constructor's hooks as these). */
interface CopyStream extends NodeJS.WritableStream, NodeJS.EventEmitter {
  _write(chunk: unknown, encoding: BufferEncoding, callback: Callback): void
  _final(callback: Callback): void
  _destroy(error: Error | null, callback: Callback): void
}

interface RejectableQuery {
  resolve(value: unknown): void
  reject(error: unknown): void
  writable(): Promise<CopyStream>
}

function connectionLost(error: unknown): Error {
  return Object.assign(new Error(`connection lost during COPY (${error instanceof Error ? error.message : String(error)})`), { code: 'CONNECTION_CLOSED' })
}

/**
 * postgres.js's COPY stream writes to its connection's socket, which it sets
 * to null once the server goes away; a write, CopyDone or CopyFail issued
 * after that throws a TypeError from a callback and would take the worker
 * thread down (seen when Postgres is SIGKILLed mid-COPY). Each hook turns
 * such a throw into a stream error with a connection code, so the batch is
 * retried like any lost connection.
 */
function guardAgainstLostSocket(stream: CopyStream): void {
  const write = stream._write.bind(stream)
  const final = stream._final.bind(stream)
  const destroy = stream._destroy.bind(stream)
  stream._write = (chunk, encoding, callback) => {
    try {
      write(chunk, encoding, callback)
    } catch (error) {
      callback(connectionLost(error))
    }
  }
  stream._final = (callback) => {
    try {
      final(callback)
    } catch (error) {
      callback(connectionLost(error))
    }
  }
  stream._destroy = (error, callback) => {
    try {
      destroy(error, callback)
    } catch {
      // postgres.js called back before its CopyFail write threw; the stream already has its error.
    }
  }
}

/** Bytes per CopyData message. */
const COPY_MESSAGE_BYTES = 64 * 1024

/**
 * Sends log rows with COPY: measured 1.7–4× faster into the same indexed
 * table than a single-statement insert from jsonb. postgres.js never settles
 * a COPY stream that the server rejects (the error arrives after CopyDone and
 * goes to the query's `reject`, which is already spent), so we wrap that
 * `reject` to learn the error, and a bad record fails its batch fast instead
 * of hanging it.
 */
/**
 * Sends COPY data (EncodedBatch's `copyData`) on `tx`: a transaction, or the pool,
 * where the single COPY statement is a transaction of its own.
 */
export async function copyLogRows(tx: Sql, { schema, logs }: TableNames, data: Buffer): Promise<void> {
  const mark = workerProfile?.now() ?? 0
  const query = tx`copy ${tx(schema)}.${tx(logs)} (${tx(LOG_COLUMNS)}) from stdin` as unknown as RejectableQuery
  const serverRejected = new Promise<never>((_, reject) => {
    const original = query.reject.bind(query)
    query.reject = (error: unknown) => {
      original(error)
      reject(error)
    }
  })
  serverRejected.catch(() => {})
  // postgres.js creates the COPY stream and resolves it while handling CopyInResponse; an ErrorResponse in
  // the same packet (a statement trigger refusing the COPY) destroys it before our await resumes, and the
  // 'error' it emits next tick would find no listener and end the worker. Listen from the moment it exists.
  const resolve = query.resolve.bind(query)
  query.resolve = (value: unknown) => {
    if (value && typeof (value as CopyStream).on === 'function') (value as CopyStream).on('error', () => {})
    resolve(value)
  }
  // Refused before any data (a permission check, a statement trigger): the query itself rejects and
  // writable() never settles. Nobody awaits the query, so its rejection would end the worker.
  ;(query as unknown as Promise<unknown>).catch(() => {})
  const writable = await Promise.race([query.writable(), serverRejected])
  guardAgainstLostSocket(writable)
  const committedCopy = new Promise<void>((resolve, reject) => {
    // `on`, not `once`: postgres.js may destroy the stream with the server's error after another one.
    writable.on('error', reject)
    writable.once('finish', resolve)
  })
  // In pieces: postgres.js copies each write into a CopyData message of its own, and one write of the whole
  // batch made that copy batch-sized, fresh memory every time (see copy-text-pool.ts for what that costs).
  for (let at = 0; at < data.length; at += COPY_MESSAGE_BYTES) writable.write(data.subarray(at, at + COPY_MESSAGE_BYTES))
  writable.end()
  await Promise.race([committedCopy, serverRejected])
  workerProfile?.add('copyMs', mark)
}
