import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import type { S3Client } from '@aws-sdk/client-s3'
import type { PointerTarget, S3Pointer } from '../../sinks/s3/pointer.js'
import { loadS3Sdk } from '../../sinks/s3/s3-client.js'

const gunzipAsync = promisify(gunzip)

/** Stands in for a payload whose object is gone (deleted, expired by a lifecycle rule). */
export interface MissingPayload {
  $missing: string
}

function isGone(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404
}

/**
 * Fetches one offloaded payload and checks it against its pointer. A missing
 * object gives a `$missing` marker; anything else (S3 unreachable, content
 * that does not match its hash) throws, since retrying may help.
 */
export async function fetchPayload(client: S3Client, target: PointerTarget, pointer: S3Pointer): Promise<unknown> {
  let stored: Uint8Array
  try {
    const { GetObjectCommand } = await loadS3Sdk()
    const object = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }))
    if (!object.Body) throw new Error('empty response body')
    stored = await object.Body.transformToByteArray()
  } catch (error) {
    if (isGone(error)) return { $missing: pointer.$ref } satisfies MissingPayload
    throw new Error(`cannot fetch ${pointer.$ref}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error })
  }
  // Some HTTP layers undo Content-Encoding: gzip on the way; accept the payload either way.
  const isGzip = stored[0] === 0x1f && stored[1] === 0x8b
  const json = isGzip ? await gunzipAsync(stored) : Buffer.from(stored)
  if (createHash('sha256').update(json).digest('hex') !== pointer.sha256) {
    throw new Error(`content of ${pointer.$ref} does not match its sha256 ${pointer.sha256}`)
  }
  return JSON.parse(json.toString('utf8')) as unknown
}
