import { describe, expect, it } from 'vitest'
import { keepInline, truncatedMarker, TRUNCATED_HEAD_CHARS } from '../../sinks/s3/inline-fallback.js'
import { objectKey } from '../../sinks/s3/object-key.js'
import { describeS3Error, sha256Hex } from '../../sinks/s3/payload-uploader.js'
import { pickPayloads, POINTER_BYTES, setField, type Payload } from '../../sinks/s3/pick-payloads.js'
import { isKeyUnderPrefix, isPointer, makePointer, pointerTarget } from '../../sinks/s3/pointer.js'
import { materialize, OptionsError, resolveOptions } from '../../src/index.js'
import { markProven } from '../../sinks/shared/record-proof.js'

const HASH = 'ab'.repeat(32)
const base = { postgres: { url: 'postgres://u@127.0.0.1/db' } }
const resolveS3 = (s3: unknown, extra: object = {}) => resolveOptions({ ...base, ...extra, s3 }).s3
const payload = (field: string, bytes: number): Payload => ({ field, json: Buffer.alloc(bytes, 'x') })

describe('pickPayloads', () => {
  it('takes the biggest top-level fields first, until the row fits the threshold', () => {
    const value = { level: 30, time: 1, msg: 'm', a: 'a'.repeat(5000), b: 'b'.repeat(3000), c: 'c'.repeat(1000), small: 'tiny' }
    const bytes = Buffer.byteLength(JSON.stringify(value))
    expect(pickPayloads(value, bytes, bytes - 1).map((p) => p.field)).toEqual(['a'])
    expect(pickPayloads(value, bytes, 3000).map((p) => p.field)).toEqual(['a', 'b'])
    expect(pickPayloads(value, bytes, 300).map((p) => p.field)).toEqual(['a', 'b', 'c'])
  })

  it('never moves time or level, nor fields no bigger than a pointer', () => {
    const value = { time: 't'.repeat(10_000), level: 'l'.repeat(10_000), fits: 'f'.repeat(POINTER_BYTES - 2) }
    expect(pickPayloads(value, 30_000, 1000)).toEqual([])
  })

  it('keeps what makes a span a span, and moves its payload', () => {
    const span = markProven({ sluice: 'span', trace_id: 't', span_id: 's', name: 'n'.repeat(2000), usage: { x: 'u'.repeat(2000) }, payload: { output: 'p'.repeat(5000) } }, 'span')
    expect(pickPayloads(span, 10_000, 1000).map((p) => p.field)).toEqual(['payload'])
    expect(pickPayloads({ ...span, sluice: 'not a span' }, 10_000, 1000).map((p) => p.field)).toEqual(['payload', 'usage', 'name'])
  })

  it('measures UTF-8 bytes of the JSON, and serializes nested values', () => {
    const value = { emoji: '🚀'.repeat(100), nested: { deep: ['x'.repeat(300)] } }
    const picked = pickPayloads(value, 10_000, 300)
    expect(picked.map((p) => [p.field, p.json.length])).toEqual([['emoji', 402], ['nested', Buffer.byteLength(JSON.stringify(value.nested))]])
  })

  it('setField writes own properties, even __proto__', () => {
    const value = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>
    setField(value, '__proto__', { $ref: 's3://b/k' })
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(JSON.stringify(value)).toBe('{"__proto__":{"$ref":"s3://b/k"}}')
  })
})

describe('objectKey', () => {
  it('is <prefix>YYYY/MM/DD/<sha256>.json.gz in UTC', () => {
    expect(objectKey('logs/', Date.UTC(2024, 1, 29, 23, 59), HASH)).toBe(`logs/2024/02/29/${HASH}.json.gz`)
    expect(objectKey('', Date.UTC(1999, 11, 31), HASH)).toBe(`1999/12/31/${HASH}.json.gz`)
  })

  it('uses the upload day when the record time is out of range', () => {
    const now = Date.UTC(2025, 6, 4)
    for (const time of [8.64e15, -62135596800000, -1, Number.NaN]) {
      expect(objectKey('p/', time, HASH, now)).toBe(`p/2025/07/04/${HASH}.json.gz`)
    }
  })

  it('refuses anything but a sha256 digest as the name', () => {
    expect(() => objectKey('p/', 0, '../../etc/passwd')).toThrow(/sha256/)
  })
})

describe('pointers', () => {
  const key = `p/2024/01/02/${HASH}.json.gz`
  const pointer = makePointer('bucket-1', key, 10, HASH)

  it('have the documented shape', () => {
    expect(pointer).toEqual({ $ref: `s3://bucket-1/${key}`, bytes: 10, sha256: HASH, encoding: 'gzip' })
    expect(isPointer(pointer)).toBe(true)
    expect(isPointer({ $ref: 'x' })).toBe(false)
  })

  it('are followed only into the trusted bucket, at a content-addressed key matching their hash', () => {
    expect(pointerTarget(pointer, 'bucket-1')).toEqual({ bucket: 'bucket-1', key })
    expect(pointerTarget(pointer, 'other')).toBeUndefined()
    expect(pointerTarget({ ...pointer, sha256: 'cd'.repeat(32) }, 'bucket-1')).toBeUndefined()
    expect(pointerTarget({ ...pointer, $ref: 's3://bucket-1/secret.txt' }, 'bucket-1')).toBeUndefined()
    expect(pointerTarget({ ...pointer, $ref: `s3://bucket-1/../2024/01/02/${HASH}.json.gz` }, 'bucket-1')).toBeUndefined()
    expect(pointerTarget({ ...pointer, $ref: `https://bucket-1/${key}` }, 'bucket-1')).toBeUndefined()
  })

  it('are under a prefix only when the prefix is followed by exactly the date and hash (the key the stage writes)', () => {
    expect(isKeyUnderPrefix(key, 'p/')).toBe(true)
    expect(isKeyUnderPrefix(`2024/01/02/${HASH}.json.gz`, '')).toBe(true)
    expect(isKeyUnderPrefix(key, '')).toBe(false)
    expect(isKeyUnderPrefix(key, 'q/')).toBe(false)
    expect(isKeyUnderPrefix(`p/other/2024/01/02/${HASH}.json.gz`, 'p/')).toBe(false)
    expect(isKeyUnderPrefix(`pino-sluice/2024/01/02/${HASH}.json.gz`, 'pino-sluice/')).toBe(true)
  })
})

describe('inline fallback', () => {
  it('keeps the smallest failed payloads inline while the row fits maxInlineBytes', () => {
    const a = payload('a', 1000)
    const b = payload('b', 5000)
    const c = payload('c', 20_000)
    const inline = keepInline([c, a, b], 100 + 26_000, 7000)
    expect([...inline].map((p) => p.field)).toEqual(['a', 'b'])
    expect(keepInline([c], 20_100, 20_100).has(c)).toBe(true)
    expect(keepInline([c], 20_101, 20_100).has(c)).toBe(false)
  })

  it('truncates with a marker that says why and shows the start', () => {
    const big = payload('big', 5000)
    const marker = truncatedMarker(big, sha256Hex(big.json), 'ECONNREFUSED')
    expect(marker).toEqual({ $truncated: 'offload failed: ECONNREFUSED', bytes: 5000, sha256: sha256Hex(big.json), head: 'x'.repeat(TRUNCATED_HEAD_CHARS) })
  })

  it('never cuts a character in half', () => {
    const emoji = { field: 'e', json: Buffer.from(JSON.stringify('🚀'.repeat(2000))) }
    const head = truncatedMarker(emoji, 'h', 'r').head
    expect(head.isWellFormed()).toBe(true)
    expect(head.length).toBeLessThanOrEqual(TRUNCATED_HEAD_CHARS)
    const accents = { field: 'a', json: Buffer.from('é'.repeat(5000)) }
    expect(truncatedMarker(accents, 'h', 'r').head).toBe('é'.repeat(TRUNCATED_HEAD_CHARS))
  })

  it('describes S3 errors briefly', () => {
    expect(describeS3Error(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))).toBe('AccessDenied (HTTP 403): Access Denied')
    expect(describeS3Error(Object.assign(new Error(''), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED')
  })
})

describe('options.s3', () => {
  it('has documented defaults', () => {
    expect(resolveS3({ bucket: 'my-logs' })).toEqual({
      bucket: 'my-logs',
      prefix: 'pino-sluice/',
      thresholdBytes: 64 * 1024,
      maxInlineBytes: 1024 * 1024,
      maxRecordBytes: 32 * 1024 * 1024,
      concurrency: 8,
      region: undefined,
      endpoint: undefined,
      forcePathStyle: false,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
      credentials: undefined,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 10_000,
      maxAttempts: 2,
    })
    expect(resolveOptions(base).s3).toBeUndefined()
  })

  it('appends the trailing slash and signs with us-east-1 for a custom endpoint', () => {
    expect(resolveS3({ bucket: 'b-1', prefix: 'app/logs', endpoint: 'http://127.0.0.1:9000' })).toMatchObject({ prefix: 'app/logs/', region: 'us-east-1' })
    expect(resolveS3({ bucket: 'b-1', prefix: '' })?.prefix).toBe('')
  })

  it.each([
    ['../escape/', /prefix is not a safe key prefix/],
    ['/absolute/', /prefix is not a safe key prefix/],
    ['a//b/', /prefix is not a safe key prefix/],
    ['a/../b/', /prefix is not a safe key prefix/],
    ['tab\there/', /prefix is not a safe key prefix/],
    ['nul\u0000/', /prefix is not a safe key prefix/],
  ])('refuses the hostile prefix %j', (prefix, message) => {
    expect(() => resolveS3({ bucket: 'b-1', prefix })).toThrow(message)
  })

  it('names the option, the value and the fix', () => {
    expect(() => resolveS3({})).toThrow(OptionsError)
    expect(() => resolveS3({})).toThrow(/options\.s3\.bucket must be an S3 bucket name .* got undefined\. Set it/)
    expect(() => resolveS3({ bucket: 'UPPER' })).toThrow(/got "UPPER"/)
    expect(() => resolveS3({ bucket: 'b-1', thresholdBytes: 2 * 1024 * 1024, maxRecordBytes: 1024 * 1024 })).toThrow(/options\.s3\.thresholdBytes must be an integer between 256 and 1048576/)
    expect(() => resolveS3({ bucket: 'b-1', maxRecordBytes: 128 * 1024 * 1024 })).toThrow(/at most channel\.maxBytes/)
    expect(() => resolveS3({ bucket: 'b-1', endpoint: 'ftp://x' })).toThrow(/options\.s3\.endpoint must be an http\(s\) URL/)
    expect(() => resolveS3({ bucket: 'b-1', requestChecksumCalculation: 'never' })).toThrow(/'WHEN_SUPPORTED', 'WHEN_REQUIRED'/)
    expect(() => resolveS3({ bucket: 'b-1', treshold: 1 })).toThrow(/unknown key "treshold"/)
  })

  it('keeps s3.maxRecordBytes within a smaller channel', () => {
    expect(resolveS3({ bucket: 'b-1' }, { channel: { maxBytes: 8 * 1024 * 1024 } })?.maxRecordBytes).toBe(8 * 1024 * 1024)
  })

  it('never echoes credentials in errors', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    expect(() => resolveS3({ bucket: 'b-1', credentials: { accessKeyId: '', secretAccessKey: secret } })).toThrow(/credentials needs non-empty strings/)
    try {
      resolveS3({ bucket: 'b-1', credentials: { accessKeyId: 5, secretAccessKey: secret } })
    } catch (error) {
      expect(String(error)).not.toContain(secret)
    }
    expect(() => resolveS3({ bucket: 'b-1', endpoint: `http://user:${secret}@host` })).toThrow(/endpoint must not carry credentials/)
    expect(() => resolveS3({ bucket: 'b-1', endpoint: `http://user:${secret}@host` })).not.toThrow(new RegExp(secret.slice(0, 10)))
  })
})

describe('materialize options', () => {
  it('are checked at once, even for a row without pointers', async () => {
    const row = { data: { small: 1 } }
    await expect(materialize(row, { s3: { bucket: 'b-1' } })).resolves.toEqual({ small: 1 })
    await expect(materialize(row, { s3: { bucket: 'NOPE' } })).rejects.toThrow(/options\.materialize\.s3\.bucket must be an S3 bucket name/)
    await expect(materialize(row, { s3: { bucket: 'b-1', endpont: 'x' } as never })).rejects.toThrow(/unknown key "endpont"\. Did you mean "endpoint"\?/)
    await expect(materialize(42, { s3: { bucket: 'b-1' } })).rejects.toThrow(/needs options\.sql/)
    await expect(materialize({} as never, { s3: { bucket: 'b-1' } })).rejects.toThrow(/takes a row \(an object with data\) or a row id/)
  })

  it('puts columns back into the record and leaves forged pointers alone', async () => {
    const time = new Date('2026-01-02T03:04:05.678Z')
    const forged = { $ref: 's3://elsewhere/2026/01/02/' + HASH + '.json.gz', bytes: 3, sha256: HASH, encoding: 'gzip' }
    const row = { id: '7', time, level: 30, msg: 'hi', hostname: null, pid: 12, writer_id: 'w', seq: '3', trace_id: null, span_id: null, data: { forged } }
    expect(await materialize(row, { s3: { bucket: 'b-1' } })).toEqual({ time: time.getTime(), level: 30, msg: 'hi', pid: 12, forged })
  })
})
