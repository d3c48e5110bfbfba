import type { S3Client } from '@aws-sdk/client-s3'
import type { Counting } from '../shared/counting.js'
import { RAW_LINE, type LogRecord } from '../shared/log-record.js'
import { Deadline } from '../shared/deadline.js'
import type { Sink, SinkCallContext } from '../sink.js'
import { keepInline, truncatedMarker } from './inline-fallback.js'
import { describeS3Error, PayloadUploader, sha256Hex } from './payload-uploader.js'
import { pickPayloads, POINTER_BYTES, setField, type Payload } from './pick-payloads.js'
import { createS3Client } from './s3-client.js'
import type { S3Options } from './s3-options.js'
import { problemReporter } from '../shared/problem-reporter.js'

/**
 * Moves the big fields of big records to S3 before the batch reaches
 * Postgres, so rows stay small. The batch waits for its uploads: a committed
 * row never points at an object that was not stored. A failed upload never
 * costs the record: its payload stays inline when the row stays within
 * `maxInlineBytes`, else it is truncated with a visible `$truncated` marker.
 */
export class OffloadStage implements Sink {
  readonly name = 's3-offload'
  /** Uploads run side by side (options.s3.concurrency), each ending by the call's deadline. */
  readonly concurrent = true
  private readonly uploader: PayloadUploader
  /** One stderr line per distinct problem: a dead S3 must not flood stderr. */
  private readonly problems = problemReporter()

  constructor(
    private readonly options: S3Options,
    private readonly counters: Counting,
    private readonly client: Promise<S3Client> = createS3Client(options),
  ) {
    // A failure to load the SDK surfaces through the uploads that need it.
    client.catch(() => {})
    this.uploader = new PayloadUploader(client, options)
  }

  /**
   * One record's trouble is its own (offload() counts it), and this settles
   * only once every upload has: a batch that went on to the store while
   * uploads were in flight got its pointers after its rows were written,
   * and counted `offloaded` for payloads stored inline (issue 27 item 12).
   */
  async write(records: readonly LogRecord[], context: SinkCallContext): Promise<void> {
    const deadline = Deadline.of(context)
    const work: Promise<void>[] = []
    for (const record of records) {
      if (record.bytes > this.options.thresholdBytes) work.push(this.offload(record, deadline))
    }
    const failure = (await Promise.allSettled(work)).find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
  }

  async close(): Promise<void> {
    const client = await this.client.catch(() => undefined)
    client?.destroy()
  }

  private async offload(record: LogRecord, deadline: Deadline): Promise<void> {
    let payloads: Payload[]
    try {
      payloads = pickPayloads(record.value, record.bytes, this.options.thresholdBytes)
    } catch (error) {
      // A field JSON.stringify cannot serialize (nested deeper than the stack): nothing was changed or
      // uploaded, so the record goes on as logged (its raw line intact) and the store decides its fate.
      this.counters.add('offload_failed')
      this.problems(`S3 offload skipped a record it cannot serialize (${error instanceof Error ? error.message : String(error)}): it goes to the store as logged`)
      return
    }
    // Every payload picked is replaced below (by a pointer or a marker): the raw line no longer says what value does.
    if (payloads.length > 0) record[RAW_LINE] = undefined
    const results = await Promise.allSettled(payloads.map((p) => this.uploader.upload(p.json, record.time, deadline)))
    const failed: { payload: Payload; reason: string }[] = []
    let rowBytes = record.bytes
    results.forEach((result, i) => {
      const payload = payloads[i] as Payload
      if (result.status === 'fulfilled') {
        setField(record.value, payload.field, result.value)
        rowBytes -= payload.json.length - POINTER_BYTES
        this.counters.add('offloaded')
        this.counters.add('offloaded_bytes', payload.json.length)
      } else {
        failed.push({ payload, reason: describeS3Error(result.reason) })
      }
    })
    if (failed.length === 0) return
    const inline = keepInline(failed.map((f) => f.payload), rowBytes, this.options.maxInlineBytes)
    for (const { payload, reason } of failed) {
      this.counters.add('offload_failed')
      this.report(reason)
      if (!inline.has(payload)) setField(record.value, payload.field, truncatedMarker(payload, sha256Hex(payload.json), reason))
    }
  }

  private report(reason: string): void {
    this.problems(`S3 offload failed, payloads kept inline or truncated: ${reason}`)
  }
}
