import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { S3Client } from '@aws-sdk/client-s3'
import pLimit, { type LimitFunction } from 'p-limit'
import type { Deadline } from '../shared/deadline.js'
import { objectKey } from './object-key.js'
import { loadS3Sdk } from './s3-client.js'
import { makePointer, type S3Pointer } from './pointer.js'
import type { S3Options } from './s3-options.js'

const gzipAsync = promisify(gzip)

/**
 * After a failed upload, later ones fall back at once for this long instead
 * of each waiting on a dead S3; it doubles while S3 keeps failing, up to
 * COOLDOWN_MAX_MS, and resets on the first success.
 */
export const COOLDOWN_MS = 3000
export const COOLDOWN_MAX_MS = 60_000
/**
 * Fastest zlib level: about 5x less CPU than the default 6 for ~40% larger
 * objects on text. The worker shares the app's cores, and S3 bytes are cheap.
 */
const GZIP_LEVEL = 1
/** Keys known to be stored, so a payload logged again is not sent again. */
const REMEMBERED_KEYS = 4096

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** S3 errors carry no credentials, but keep the line short and free of request details. */
export function describeS3Error(error: unknown): string {
  if (error === null || typeof error !== 'object') return String(error)
  const { name, code, message, $metadata } = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } }
  const status = $metadata?.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : ''
  const label = String(code ?? name ?? 'error')
  const text = typeof message === 'string' && message.length > 0 ? `: ${message}` : ''
  return `${label}${status}${text}`.slice(0, 200)
}

/**
 * Uploads payloads gzip-compressed under content-addressed keys, at most
 * `concurrency` at a time. Identical payloads in flight together share one
 * upload; ones seen recently are not sent again. A rejected promise means the
 * object may not be stored and the caller must not point at it.
 */
export class PayloadUploader {
  private readonly limit: LimitFunction
  private readonly stored = new Map<string, true>()
  private readonly inFlight = new Map<string, Promise<void>>()
  private unavailableUntil = 0
  private failuresInARow = 0
  private lastError = ''

  constructor(
    private readonly client: Promise<S3Client>,
    private readonly options: S3Options,
  ) {
    this.limit = pLimit(options.concurrency)
  }

  async upload(json: Buffer, recordTime: number, deadline: Pick<Deadline, 'at'>): Promise<S3Pointer> {
    const sha256 = sha256Hex(json)
    const key = objectKey(this.options.prefix, recordTime, sha256)
    if (!this.stored.has(key)) {
      let pending = this.inFlight.get(key)
      if (!pending) {
        pending = this.limit(() => this.put(key, json, deadline)).finally(() => this.inFlight.delete(key))
        this.inFlight.set(key, pending)
      }
      await pending
    }
    return makePointer(this.options.bucket, key, json.length, sha256)
  }

  private async put(key: string, json: Buffer, deadline: Pick<Deadline, 'at'>): Promise<void> {
    const now = Date.now()
    if (now < this.unavailableUntil) throw new Error(`not tried, S3 failed just before: ${this.lastError}`)
    // While closing, uploads get half of what is left so the rows can still be committed in the other half.
    const left = Math.floor((deadline.at - now) / 2)
    if (left < 50) throw new Error('exit budget spent')
    const abortSignal = Number.isFinite(left) ? AbortSignal.timeout(left) : undefined
    try {
      const [body, client, { PutObjectCommand }] = await Promise.all([gzipAsync(json, { level: GZIP_LEVEL }), this.client, loadS3Sdk()])
      await client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ContentEncoding: 'gzip',
          ...(this.options.sse === undefined ? {} : { ServerSideEncryption: this.options.sse.mode }),
          ...(this.options.sse?.kmsKeyId === undefined ? {} : { SSEKMSKeyId: this.options.sse.kmsKeyId }),
        }),
        { abortSignal },
      )
    } catch (error) {
      this.lastError = describeS3Error(error)
      const failedAt = Date.now()
      // Uploads in flight together fail together: that is one failure, not `concurrency` of them.
      if (failedAt >= this.unavailableUntil) {
        this.failuresInARow++
        this.unavailableUntil = failedAt + Math.min(COOLDOWN_MAX_MS, COOLDOWN_MS * 2 ** (this.failuresInARow - 1))
      }
      throw error
    }
    this.failuresInARow = 0
    this.remember(key)
  }

  private remember(key: string): void {
    this.stored.set(key, true)
    if (this.stored.size > REMEMBERED_KEYS) {
      const oldest = this.stored.keys().next().value
      if (oldest !== undefined) this.stored.delete(oldest)
    }
  }
}
