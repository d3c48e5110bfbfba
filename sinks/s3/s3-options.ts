/**
 * Resolves `options.s3`: offload large record fields to S3 and keep a pointer
 * in the row. Undefined when absent (no offloading, no S3 client).
 */
import { OptionsError, describe, readBoolean, readEnum, readInt, readSection, readString, rejectUnknownKeys } from '../shared/option-reader.js'

const KiB = 1024
const MiB = 1024 * KiB

export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'

export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** What the S3 client needs; shared by the offload stage and `materialize()`. */
export interface S3ClientOptions {
  readonly bucket: string
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly forcePathStyle: boolean
  readonly requestChecksumCalculation: ChecksumMode
  readonly responseChecksumValidation: ChecksumMode
  /** Undefined: the SDK's default credential chain (env, profile, instance role...). */
  readonly credentials: S3Credentials | undefined
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly maxAttempts: number
}

export interface S3Options extends S3ClientOptions {
  /** Key prefix, ends with '/'. */
  readonly prefix: string
  /** A record whose raw line is larger than this has its biggest fields offloaded. */
  readonly thresholdBytes: number
  /** When an upload fails, the record keeps its payloads inline up to this size; larger ones are truncated with a marker. */
  readonly maxInlineBytes: number
  /** Per-record limit of the channel while S3 is configured (replaces channel.maxRecordBytes). */
  readonly maxRecordBytes: number
  /** Uploads in flight at once. */
  readonly concurrency: number
  /** Server-side encryption asked of S3 for each payload; undefined: the bucket's default. */
  readonly sse: S3Encryption | undefined
}

export const SSE_MODES = ['AES256', 'aws:kms'] as const

/** PutObject's ServerSideEncryption, and the KMS key for 'aws:kms' (undefined: the account's aws/s3 key). */
export interface S3Encryption {
  readonly mode: (typeof SSE_MODES)[number]
  readonly kmsKeyId: string | undefined
}

export const S3_KEYS = [
  'bucket',
  'prefix',
  'thresholdBytes',
  'maxInlineBytes',
  'maxRecordBytes',
  'concurrency',
  'region',
  'endpoint',
  'forcePathStyle',
  'requestChecksumCalculation',
  'responseChecksumValidation',
  'credentials',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'maxAttempts',
  'sse',
  'sseKmsKeyId',
] as const

const CHECKSUM_MODES = ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const

/** S3's own rules, a bit stricter: 3-63 lower-case letters, digits, '-' and '.', no '..'. */
function readBucket(section: Record<string, unknown>, path: string): string {
  const bucket = section.bucket
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new OptionsError(
      `options.${path}.bucket must be an S3 bucket name (3-63 lower-case letters, digits, '-' and '.'), got ${describe(bucket)}. Set it to the bucket that receives the payloads.`,
    )
  }
  return bucket
}

/**
 * Keys are `<prefix>YYYY/MM/DD/<sha256>.json.gz`; the prefix is the only part
 * a person chooses, so it must not escape upward or carry characters that S3
 * or a shell would read differently.
 */
export function readPrefix(section: Record<string, unknown>, path: string): string {
  const value = section.prefix ?? 'pino-sluice/'
  const fix = `Use segments of letters, digits and '-', '_', '.' separated by '/', e.g. 'pino-sluice/' (or '' for none).`
  if (typeof value !== 'string') throw new OptionsError(`options.${path}.prefix must be a string, got ${describe(value)}. ${fix}`)
  if (value === '') return ''
  const prefix = value.endsWith('/') ? value : `${value}/`
  const segments = prefix.slice(0, -1).split('/')
  const bad = segments.find((s) => s === '' || s === '.' || s === '..' || !/^[A-Za-z0-9._-]+$/.test(s))
  if (bad !== undefined || prefix.length > 256) {
    throw new OptionsError(`options.${path}.prefix is not a safe key prefix, got ${describe(value)}. ${fix}`)
  }
  return prefix
}

function readEndpoint(section: Record<string, unknown>, path: string): string | undefined {
  const endpoint = readString(section, 'endpoint', path)
  if (endpoint === undefined) return undefined
  if (endpoint.includes('@')) {
    // Not echoed: the value holds a credential.
    throw new OptionsError(`options.${path}.endpoint must not carry credentials; use options.${path}.credentials or the SDK's default chain.`)
  }
  const protocol = URL.canParse(endpoint) ? new URL(endpoint).protocol : undefined
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new OptionsError(`options.${path}.endpoint must be an http(s) URL, e.g. 'http://127.0.0.1:4568', got ${describe(endpoint)}`)
  }
  return endpoint
}

/** Never echoes the values: a credential must not end up in an error message or a log. */
function readCredentials(section: Record<string, unknown>, path: string): S3Credentials | undefined {
  const value = readSection(section, 'credentials', `${path}.credentials`)
  if (value === undefined) return undefined
  rejectUnknownKeys(value, ['accessKeyId', 'secretAccessKey', 'sessionToken'], `${path}.credentials`)
  const { accessKeyId, secretAccessKey, sessionToken } = value
  const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  if (!isText(accessKeyId) || !isText(secretAccessKey) || (sessionToken !== undefined && !isText(sessionToken))) {
    throw new OptionsError(
      `options.${path}.credentials needs non-empty strings accessKeyId and secretAccessKey (and optionally sessionToken). Omit it to use the SDK's default credential chain.`,
    )
  }
  return Object.freeze(sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken })
}

/** A key id, key ARN, alias name or alias ARN: what KMS accepts, nothing a header could misread. */
const KMS_KEY_ID = /^[A-Za-z0-9:/_+=,.@-]{1,2048}$/

function readEncryption(section: Record<string, unknown>, path: string): S3Encryption | undefined {
  const given = section.sse
  const kmsKeyId = section.sseKmsKeyId
  if (given === undefined) {
    if (kmsKeyId !== undefined) throw new OptionsError(`options.${path}.sseKmsKeyId needs options.${path}.sse: 'aws:kms'. Set both, or leave both out to use the bucket's default encryption.`)
    return undefined
  }
  const mode = readEnum(section, 'sse', path, SSE_MODES, 'AES256')
  if (kmsKeyId === undefined) return Object.freeze({ mode, kmsKeyId: undefined })
  if (mode !== 'aws:kms') throw new OptionsError(`options.${path}.sseKmsKeyId applies only with options.${path}.sse: 'aws:kms' (got 'AES256'). Remove it, or set sse to 'aws:kms'.`)
  if (typeof kmsKeyId !== 'string' || !KMS_KEY_ID.test(kmsKeyId)) {
    throw new OptionsError(
      `options.${path}.sseKmsKeyId must be a KMS key id, key ARN or alias ('alias/…'), got ${describe(kmsKeyId)}. Omit it to use the account's aws/s3 key.`,
    )
  }
  return Object.freeze({ mode, kmsKeyId })
}

/** The connection part of the options; `materialize()` reads the same shape. */
export function resolveS3ClientOptions(section: Record<string, unknown>, path: string): S3ClientOptions {
  const endpoint = readEndpoint(section, path)
  return {
    bucket: readBucket(section, path),
    // A custom endpoint (MinIO, s3rver...) usually ignores the region, but the SDK still needs one to sign.
    region: readString(section, 'region', path) ?? (endpoint ? 'us-east-1' : undefined),
    endpoint,
    forcePathStyle: readBoolean(section, 'forcePathStyle', path, false),
    requestChecksumCalculation: readEnum(section, 'requestChecksumCalculation', path, CHECKSUM_MODES, 'WHEN_SUPPORTED'),
    responseChecksumValidation: readEnum(section, 'responseChecksumValidation', path, CHECKSUM_MODES, 'WHEN_SUPPORTED'),
    credentials: readCredentials(section, path),
    connectTimeoutMs: readInt(section, 'connectTimeoutMs', path, 2000, { min: 1, max: 60_000, unit: 'ms' }),
    requestTimeoutMs: readInt(section, 'requestTimeoutMs', path, 10_000, { min: 1, max: 600_000, unit: 'ms of socket inactivity' }),
    maxAttempts: readInt(section, 'maxAttempts', path, 2, { min: 1, max: 10 }),
  }
}

/**
 * `channelMaxBytes` bounds `s3.maxRecordBytes`: a record must fit in the
 * channel to be offloaded.
 */
export function resolveS3Options(root: Record<string, unknown>, channelMaxBytes = 64 * MiB): S3Options | undefined {
  const section = readSection(root, 's3', 's3')
  if (section === undefined) return undefined
  rejectUnknownKeys(section, S3_KEYS, 's3')
  const client = resolveS3ClientOptions(section, 's3')
  const maxRecordBytes = readInt(section, 'maxRecordBytes', 's3', Math.min(32 * MiB, channelMaxBytes), {
    min: 1024,
    max: channelMaxBytes,
    unit: 'bytes, at most channel.maxBytes',
  })
  const thresholdBytes = readInt(section, 'thresholdBytes', 's3', Math.min(64 * KiB, maxRecordBytes), {
    min: 256,
    max: maxRecordBytes,
    unit: 'bytes, at most s3.maxRecordBytes',
  })
  return Object.freeze({
    ...client,
    prefix: readPrefix(section, 's3'),
    thresholdBytes,
    maxInlineBytes: readInt(section, 'maxInlineBytes', 's3', Math.max(MiB, thresholdBytes), { min: thresholdBytes, max: 256 * MiB, unit: 'bytes, at least s3.thresholdBytes' }),
    maxRecordBytes,
    concurrency: readInt(section, 'concurrency', 's3', 8, { min: 1, max: 256 }),
    sse: readEncryption(section, 's3'),
  })
}
