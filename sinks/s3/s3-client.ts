import type { S3Client } from '@aws-sdk/client-s3'
import type { S3ClientOptions } from './s3-options.js'

type S3Sdk = typeof import('@aws-sdk/client-s3')
let sdk: Promise<S3Sdk> | undefined

/** The SDK takes ~80 ms to load; only workers (and readers) that use S3 pay for it. */
export function loadS3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3').catch((error: unknown) => {
    sdk = undefined
    // An optional peer dependency: say which package to install rather than a bare resolution error.
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new Error('pino-sluice needs the package @aws-sdk/client-s3 for S3 (npm install @aws-sdk/client-s3)', { cause: error })
    throw error
  })
  return sdk
}

/**
 * One client per worker (and per `materialize()` call without its own).
 * Short connect timeout and few attempts: a dead S3 must cost a batch
 * seconds, not the SDK's default minutes, since the row waits for its upload.
 */
export async function createS3Client(options: S3ClientOptions): Promise<S3Client> {
  const { S3Client } = await loadS3Sdk()
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: options.requestChecksumCalculation,
    responseChecksumValidation: options.responseChecksumValidation,
    maxAttempts: options.maxAttempts,
    // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes and the request hangs on.
    requestHandler: { connectionTimeout: options.connectTimeoutMs, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true },
    // A copy: the SDK annotates the credentials object it is given, and ours is frozen.
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
  })
}
