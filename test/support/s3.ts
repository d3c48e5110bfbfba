/** What S3 tests share: the local server's options, a client, and a loud skip when the server is absent. */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { inject } from 'vitest'
import { LOCAL_S3_CREDENTIALS } from '../../dev/local-s3.js'
import type { SluiceOptions } from '../../src/index.js'
import { S3_TEST_BUCKET } from './s3-setup.js'

export { S3_TEST_BUCKET }

export const s3Endpoint: string | undefined = inject('s3Endpoint')

if (!s3Endpoint) console.warn('!!! no local S3 (s3rver did not start): S3 tests are SKIPPED')

let prefixCounter = 0

/** A key prefix of its own for each test, so tests can share the bucket. */
export function uniquePrefix(): string {
  prefixCounter++
  return `t-${process.pid}-${Date.now().toString(36)}-${prefixCounter}/`
}

type S3Section = NonNullable<SluiceOptions['s3']>

/** `s3` transport options for the local server. */
export function localS3Options(extra: Partial<S3Section> = {}): S3Section {
  return {
    bucket: S3_TEST_BUCKET,
    endpoint: s3Endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { ...LOCAL_S3_CREDENTIALS },
    ...extra,
  }
}

export function localS3Client(): S3Client {
  return new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { ...LOCAL_S3_CREDENTIALS },
  })
}

export async function listKeys(client: S3Client, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: S3_TEST_BUCKET, Prefix: prefix }))
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort()
}
