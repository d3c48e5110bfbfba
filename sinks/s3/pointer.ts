/**
 * What replaces an offloaded field in the row:
 *
 *   { "$ref": "s3://bucket/<prefix>YYYY/MM/DD/<sha256>.json.gz", "bytes": 204812, "sha256": "…", "encoding": "gzip" }
 *
 * `bytes` and `sha256` describe the field's JSON before compression, so a
 * reader can check what it fetched. Searchable in Postgres with
 * `data @? '$.* ? (exists (@."$ref"))'`.
 */
export interface S3Pointer {
  $ref: string
  bytes: number
  sha256: string
  encoding: 'gzip'
}

const SHA256 = /^[0-9a-f]{64}$/
/** The tail every key we write ends with; the date parts and the hash are never chosen by a record. */
const KEY_TAIL = /(?:^|\/)\d{4}\/\d{2}\/\d{2}\/([0-9a-f]{64})\.json\.gz$/

/**
 * Whether `key` is one the offload stage writes under `prefix`: the prefix,
 * then exactly `YYYY/MM/DD/<sha256>.json.gz` (object-key.ts), nothing between.
 */
export function isKeyUnderPrefix(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{64}\.json\.gz$/.test(key.slice(prefix.length))
}

export function makePointer(bucket: string, key: string, bytes: number, sha256: string): S3Pointer {
  return { $ref: `s3://${bucket}/${key}`, bytes, sha256, encoding: 'gzip' }
}

export function isPointer(value: unknown): value is S3Pointer {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const v = value as Record<string, unknown>
  return typeof v.$ref === 'string' && typeof v.bytes === 'number' && typeof v.sha256 === 'string' && v.encoding === 'gzip'
}

export interface PointerTarget {
  bucket: string
  key: string
}

/**
 * Where a pointer leads, or undefined when it does not look like one we wrote:
 * a record could carry a forged `$ref`, and a reader must not fetch whatever
 * it names. Only content-addressed keys in the expected bucket whose hash
 * matches the pointer's are followed (and the content is checked again after
 * download).
 */
export function pointerTarget(pointer: S3Pointer, trustedBucket: string): PointerTarget | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(pointer.$ref)
  if (!match) return undefined
  const [, bucket, key] = match as unknown as [string, string, string]
  if (bucket !== trustedBucket || !SHA256.test(pointer.sha256)) return undefined
  const tail = KEY_TAIL.exec(key)
  if (!tail || tail[1] !== pointer.sha256 || key.split('/').some((part) => part === '..' || part === '.')) return undefined
  return { bucket, key }
}
