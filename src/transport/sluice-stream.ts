import { Writable } from 'node:stream'
import type { Counters } from '../counters/counters.js'
import type { Pipeline } from '../pipeline/pipeline.js'
import { workerProfile } from '../../sinks/shared/worker-profile.js'
import { LineSplitter } from './line-splitter.js'

/**
 * The stream thread-stream writes into. `write` only splits lines and offers
 * them to the channel, so it never asks thread-stream to wait: reading keeps
 * pace with the app and the ring buffer never fills (a full ring makes the
 * main thread buffer without bound). A chunk larger than the carry limit
 * longer than `maxLineLength` is counted as one too-large record and skipped
 * without being assembled.
 */
export class SluiceStream extends Writable {
  private readonly splitter = new LineSplitter()

  constructor(
    private readonly pipeline: Pipeline,
    private readonly counters: Counters,
    private readonly maxLineLength: number,
    private readonly onClosed: () => Promise<void>,
  ) {
    // A high mark far above any chunk keeps write() returning true.
    super({ decodeStrings: false, highWaterMark: 1 << 30 })
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (workerProfile) workerProfile.begin(() => this.pipeline.channel.length)
    const mark = workerProfile?.now() ?? 0
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    if (this.pipeline.refusesNewLines()) {
      // The channel is full and refuses new lines: count them without building them.
      this.pipeline.refuse(this.splitter.lineSizes(text, this.maxLineLength))
    } else {
      const lines = this.splitter.split(text)
      if (lines.length > 0) this.pipeline.accept(lines)
    }
    if (this.splitter.pendingLength > this.maxLineLength) {
      // A line this long cannot be a record we keep; count it once and resync at the next newline.
      this.splitter.discardPartialLine()
      this.counters.add('received')
      this.counters.drop('too_large')
    }
    workerProfile?.add('readMs', mark)
    callback()
  }

  /** thread-stream calls this for `transport.flush(cb)`: resolve only once everything accepted is committed. */
  flush(callback: (error?: Error | null) => void): void {
    this.pipeline.flush().then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    const rest = this.splitter.rest()
    if (rest.length > 0) this.pipeline.accept([rest])
    this.onClosed().then(() => callback(), callback)
  }
}
