/**
 * Runs on the app thread: the pino destination createSluice() returns.
 * `write` is the app's whole cost of a log line: encode it into the ring or
 * count it dropped, never wait, never queue, never allocate beyond pino's
 * own string. Everything else (parsing, batching, Postgres) is the worker's.
 */
import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import { AppCounters } from '../counters/app-counters.js'
import { maxRecordBytes, type ResolvedOptions } from '../options/resolve-options.js'
import { DOORBELL_DELAY_MS, Doorbell, WAKE_NOW_BYTES } from '../ring/doorbell.js'
import { allocateRing } from '../ring/ring-layout.js'
import { RingWriter, WriteResult } from '../ring/ring-writer.js'
import { SLUICE_WORKER_MARK } from './inside-sluice-worker.js'
import type { RingWorkerData, ToApp, ToWorker } from './ring-messages.js'
import { workerFlags } from './worker-flags.js'

const RING_WORKER = new URL('./ring-worker.js', import.meta.url)
/** On process exit the worker gets the exit budget from when it sees the request; this covers its start-up. */
const EXIT_WAIT_MARGIN_MS = 1000

type FlushCallback = (error?: Error | null) => void

function startWorker(workerData: RingWorkerData): Worker {
  const { execArgv, env, resourceLimits } = workerFlags()
  try {
    return new Worker(RING_WORKER, { workerData, execArgv, env, resourceLimits })
  } catch (error) {
    // A flag the app may have but a worker may not (--expose-gc next to -e): start without the app's flags.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error
    const { NODE_OPTIONS: _dropped, ...rest } = process.env
    return new Worker(RING_WORKER, { workerData, execArgv: [], env: rest, resourceLimits })
  }
}

export class SluiceDestination extends EventEmitter {
  /** How pino tells a destination from an options object in `pino(destination)`. */
  readonly writable = true
  private readonly writer: RingWriter
  private readonly doorbell: Doorbell
  private readonly counters: AppCounters
  private readonly worker: Worker
  private readonly pendingFlushes = new Map<number, FlushCallback>()
  private nextFlushId = 1
  /** Characters of lines sent aside as messages and not yet taken by the worker. */
  private asideChars = 0
  private open = true
  private workerGone = false
  private closing: Promise<void> | undefined

  constructor(
    userOptions: Record<string, unknown>,
    private readonly options: ResolvedOptions,
    counters: SharedArrayBuffer,
  ) {
    super()
    const ring = allocateRing(options.ring.bytes)
    this.writer = new RingWriter(ring, maxRecordBytes(options))
    // A ring smaller than four times the threshold still wakes its worker well before it is full.
    this.doorbell = new Doorbell(this.writer, DOORBELL_DELAY_MS, Math.min(WAKE_NOW_BYTES, options.ring.bytes / 4))
    this.counters = new AppCounters(counters)
    const workerData: RingWorkerData = { mark: SLUICE_WORKER_MARK, options: { ...userOptions, counters }, ring }
    this.worker = startWorker(workerData)
    this.worker.on('message', (message: ToApp) => this.onMessage(message))
    this.worker.on('error', (error) => this.onWorkerError(error))
    this.worker.on('exit', () => this.onWorkerExit())
    // Held until 'ready' (code awaiting it must not see the loop run dry), then let go: an idle
    // app with a sluice still exits by itself, and the 'exit' hook drains what is left.
    process.once('exit', this.onProcessExit)
  }

  /** pino calls this once per log line. Returns true always: a full ring drops, it never asks pino to wait. */
  write(chunk: string): boolean {
    if (chunk.length === 0) return true
    const counters = this.counters
    counters.receive()
    if (!this.open) {
      counters.drop('closed')
      return true
    }
    const line = typeof chunk === 'string' ? chunk : String(chunk)
    const result = this.writer.write(line)
    if (result === WriteResult.Written) this.doorbell.afterWrite()
    else if (result === WriteResult.Full) counters.drop('overflow')
    else if (result === WriteResult.TooLarge) counters.drop('too_large')
    else if (result === WriteResult.BiggerThanRing) this.sendAside(line)
    return true
  }

  /**
   * A line within the record limit but bigger than the ring (with S3, records
   * up to s3.maxRecordBytes are offloaded) goes as a message, a copy outside
   * the ring. What is in flight that way is bounded by channel.maxBytes (in
   * characters); beyond it the line is dropped as overflow.
   */
  private sendAside(line: string): void {
    if (this.asideChars + line.length > this.options.channel.maxBytes) {
      this.counters.drop('overflow')
      return
    }
    this.asideChars += line.length
    this.writer.sentAside()
    this.post({ type: 'line', line })
  }

  /**
   * Counts a record the app emitted that never became a line (a span the OTel
   * processor could not hand to the logger) as received and dropped, so the
   * counters and the exit report account for it like any line.
   */
  countDiscarded(reason: 'span_level' | 'span_error'): void {
    this.counters.receive()
    this.counters.drop(reason)
  }

  /** Calls back once everything written so far is committed (or counted dropped/failed). */
  flush(callback: FlushCallback = () => {}): void {
    if (this.workerGone) {
      callback(new Error('pino-sluice: the worker has stopped; nothing more can be flushed'))
      return
    }
    this.counters.publish()
    const id = this.nextFlushId++
    this.pendingFlushes.set(id, callback)
    this.worker.ref()
    this.post({ type: 'flush', id, writePos: this.writer.position })
  }

  /** Publishes the app thread's counts, so a reader of the shared counters sees every line written so far. */
  publishCounters(): void {
    this.counters.publish()
  }

  /**
   * Doorbells the app rang, times the worker slept and woke, and bytes it has
   * not taken yet, for the bench (wakes per line, delivery latency). Not part
   * of the public API; reading it costs three atomic loads.
   */
  ringActivity(): { doorbells: number; workerWakes: number; unreadBytes: number } {
    return { ...this.writer.activity(), unreadBytes: this.writer.unreadBytes() }
  }

  /** Drains, commits and stops the worker within the exit budget. The app thread keeps running meanwhile. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.stopAccepting()
      if (this.workerGone) return resolve()
      this.worker.ref()
      this.worker.once('exit', () => resolve())
      this.requestClose()
    })
    return this.closing
  }

  /** Node's stream name for close, for code that ends its destinations. */
  end(): void {
    void this.close()
  }

  ref(): void {
    this.worker.ref()
  }

  unref(): void {
    this.worker.unref()
  }

  private stopAccepting(): void {
    this.open = false
    this.counters.publish()
  }

  private requestClose(): void {
    this.writer.requestClose()
    this.post({ type: 'close' })
  }

  /**
   * At process exit the event loop is gone, so wait synchronously (bounded)
   * while the worker drains what the ring holds and commits it: a burst
   * logged right before process.exit() still reaches the database.
   */
  private readonly onProcessExit = (): void => {
    this.stopAccepting()
    if (this.workerGone) return
    this.requestClose()
    this.writer.waitUntilClosed(Date.now() + this.options.exit.budgetMs + EXIT_WAIT_MARGIN_MS)
  }

  private onMessage(message: ToApp): void {
    if (message.type === 'ready') {
      if (this.pendingFlushes.size === 0 && !this.closing) this.worker.unref()
      this.emit('ready')
    }
    // The worker has settled everything; whatever still holds its loop open (a socket in teardown) may go.
    else if (message.type === 'closed') void this.worker.terminate()
    else if (message.type === 'taken') this.asideChars -= message.chars
    else if (message.type === 'flushed') {
      const callback = this.pendingFlushes.get(message.id)
      this.pendingFlushes.delete(message.id)
      if (this.pendingFlushes.size === 0 && !this.closing) this.worker.unref()
      callback?.(message.error === undefined ? null : new Error(message.error))
    }
  }

  private onWorkerError(error: Error): void {
    this.stopAccepting()
    // A logging failure must not crash the app that nobody told to listen for it.
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else process.stderr.write(`pino-sluice: the worker stopped: ${error.message}\n`)
  }

  private onWorkerExit(): void {
    this.workerGone = true
    // Kept until now so that a process.exit() during close() still waits for the drain.
    process.off('exit', this.onProcessExit)
    this.stopAccepting()
    // Died before settling everything (out of heap, a throw): the lines it held, and those still in the
    // ring, would end in no counter. Only this thread is left to count them.
    if (!this.writer.workerClosed()) this.countUnsettled()
    const error = new Error('pino-sluice: the worker stopped before the flush completed')
    for (const callback of this.pendingFlushes.values()) callback(error)
    this.pendingFlushes.clear()
    this.emit('finish')
    this.emit('close')
  }

  private countUnsettled(): void {
    const lost = this.counters.failUnsettled()
    if (lost > 0) process.stderr.write(`pino-sluice: the worker stopped with ${lost} lines not yet written; counted as failed_worker_exit\n`)
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message)
  }
}
