import { writeSync } from 'node:fs'
import { Writable } from 'node:stream'
import { COUNTER_SLOTS, type FailReason } from '../counters/counter-names.js'
import { Counters } from '../counters/counters.js'
import { exitReport } from './exit-report.js'

/**
 * What pino.transport() gets when the worker cannot start (a mistake in the
 * options): pino.transport() returns at once and the app logs before the
 * worker has even loaded, so those lines are already in thread-stream's
 * buffer. They are read and counted `failed_<store>_unavailable` (never
 * stored, never lost uncounted), then the error is emitted: thread-stream
 * hands it to the app as the transport's `error` event and stops the worker.
 * createSluice() checks its options on the app thread and throws before
 * taking any line, so it never needs this.
 */
export class RefusingStream extends Writable {
  private readonly counters: Counters
  private readonly reason: FailReason

  constructor(rawOptions: unknown, private readonly startError: Error) {
    super({ decodeStrings: false, highWaterMark: 1 << 30 })
    const root = rawOptions !== null && typeof rawOptions === 'object' ? (rawOptions as Record<string, unknown>) : {}
    const buffer = root.counters instanceof SharedArrayBuffer && root.counters.byteLength >= COUNTER_SLOTS * 8 ? root.counters : undefined
    this.counters = new Counters(buffer)
    this.reason = storeIsPostgres(root) ? 'db_unavailable' : 'store_unavailable'
    // thread-stream writes what its buffer holds as soon as it has this stream (a nextTick after
    // it resolves); an immediate comes after that, so every line logged before the start is counted.
    setImmediate(() => this.refuse())
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    let lines = 0
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++
    this.counters.add('received', lines)
    this.counters.fail(this.reason, lines)
    this.counters.publish()
    callback()
  }

  private refuse(): void {
    // Also on stderr: an app that logged and ended at once may be gone before the event reaches it.
    writeSync(2, `pino-sluice: the transport cannot start: ${this.startError.message}\n`)
    const report = exitReport(this.counters)
    if (report) writeSync(2, report)
    this.destroy(this.startError)
  }
}

/** The store of record the options asked for, read as leniently as a broken config needs. */
function storeIsPostgres(root: Record<string, unknown>): boolean {
  const sinks = Array.isArray(root.sinks) ? root.sinks : []
  const otherStore = sinks.some((s: unknown) => s !== null && typeof s === 'object' && (s as { role?: unknown }).role === 'store')
  return root.postgres !== false && root.file === undefined && !otherStore
}
