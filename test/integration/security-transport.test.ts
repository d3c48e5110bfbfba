/**
 * Issue 27.14 (SNI, S3 encryption): our own Postgres socket sends the server
 * name in its TLS ClientHello, as postgres.js does with its own sockets
 * (providers that route by SNI need it; an IP address is never sent); and
 * S3 payloads can be written with server-side encryption, checked at the
 * edge and sent on every PutObject.
 */
import { execFileSync } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TLSSocket } from 'node:tls'
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDroppable } from '../../sinks/postgres/connect.js'
import { resolvePostgresOptions } from '../../sinks/postgres/postgres-options.js'
import { PayloadUploader } from '../../sinks/s3/payload-uploader.js'
import { resolveS3Options, type S3Options } from '../../sinks/s3/s3-options.js'
import { createS3Client } from '../../sinks/s3/s3-client.js'
import { motoEndpoint } from '../support/cloudwatch.js'
import { localS3Options, s3Endpoint, uniquePrefix } from '../support/s3.js'

/** A self-signed certificate made by openssl, or undefined (the SNI tests then skip, loudly). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' })
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } catch {
    console.warn('\n!!! security-transport.test.ts: openssl is not available; the SNI tests are SKIPPED.\n')
    return undefined
  }
}

const certificate = selfSignedCertificate()

/**
 * Speaks just enough Postgres to take a TLS handshake: answers the SSLRequest
 * with 'S', completes the handshake, records the ClientHello's server name
 * (false when none was sent), then hangs up.
 */
async function startTlsPostgres(host: string, tls: { key: Buffer; cert: Buffer }): Promise<{ server: Server; port: number; names: (string | false)[]; first: Promise<void> }> {
  const names: (string | false)[] = []
  let handshake: () => void = () => {}
  const first = new Promise<void>((resolve) => (handshake = resolve))
  const server = createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write('S')
      const secure = new TLSSocket(socket, { isServer: true, ...tls })
      secure.on('error', () => {})
      secure.once('secure', () => {
        names.push(secure.servername ?? false)
        handshake()
        secure.destroy()
      })
    })
  })
  server.listen(0, host)
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port, names, first }
}

/** Connects through connect.ts until the server has seen one handshake, then lets go. */
async function handshakeWith(url: string, handshake: Promise<void>): Promise<void> {
  const options = resolvePostgresOptions({ postgres: { url, connectTimeoutMs: 2000, retry: { budgetMs: 0 } } }, {})
  const { sql, dropAll } = connectDroppable(options)
  const query = sql`select 1`.catch(() => undefined)
  await handshake
  dropAll()
  await sql.end({ timeout: 0 })
  await query
}

describe.skipIf(!certificate)('TLS to Postgres through our own socket', () => {
  let localhost: string
  let named: Awaited<ReturnType<typeof startTlsPostgres>>
  let ip: Awaited<ReturnType<typeof startTlsPostgres>>
  beforeAll(async () => {
    localhost = (await lookup('localhost')).address
    named = await startTlsPostgres(localhost, certificate as { key: Buffer; cert: Buffer })
    ip = await startTlsPostgres('127.0.0.1', certificate as { key: Buffer; cert: Buffer })
  })
  afterAll(() => {
    named?.server.close()
    ip?.server.close()
  })

  it('sends the host name as SNI', async () => {
    await handshakeWith(`postgres://u:p@localhost:${named.port}/db?sslmode=require`, named.first)
    expect(named.names.length).toBeGreaterThan(0)
    expect(named.names[0]).toBe('localhost')
  })

  it('sends no SNI for an IP address (RFC 6066)', async () => {
    await handshakeWith(`postgres://u:p@127.0.0.1:${ip.port}/db?sslmode=require`, ip.first)
    expect(ip.names.length).toBeGreaterThan(0)
    expect(ip.names[0]).toBe(false)
  })
})

describe('s3.sse and s3.sseKmsKeyId: checked at the edge', () => {
  const base = { bucket: 'payloads' }
  it('takes AES256, aws:kms, and aws:kms with a key id, ARN or alias', () => {
    expect(resolveS3Options({ s3: base })?.sse).toBeUndefined()
    expect(resolveS3Options({ s3: { ...base, sse: 'AES256' } })?.sse).toEqual({ mode: 'AES256', kmsKeyId: undefined })
    expect(resolveS3Options({ s3: { ...base, sse: 'aws:kms' } })?.sse).toEqual({ mode: 'aws:kms', kmsKeyId: undefined })
    for (const id of ['1234abcd-12ab-34cd-56ef-1234567890ab', 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'alias/logs']) {
      expect(resolveS3Options({ s3: { ...base, sse: 'aws:kms', sseKmsKeyId: id } })?.sse).toEqual({ mode: 'aws:kms', kmsKeyId: id })
    }
  })

  it.each([
    [{ sse: 'aes256' }, "options.s3.sse must be one of 'AES256', 'aws:kms'"],
    [{ sse: 'aws:kms:dsse' }, "options.s3.sse must be one of 'AES256', 'aws:kms'"],
    [{ sseKmsKeyId: 'alias/logs' }, "options.s3.sseKmsKeyId needs options.s3.sse: 'aws:kms'"],
    [{ sse: 'AES256', sseKmsKeyId: 'alias/logs' }, "applies only with options.s3.sse: 'aws:kms'"],
    [{ sse: 'aws:kms', sseKmsKeyId: 'alias/x\r\nX-Evil: 1' }, 'options.s3.sseKmsKeyId must be a KMS key id'],
    [{ sse: 'aws:kms', sseKmsKeyId: 42 }, 'options.s3.sseKmsKeyId must be a KMS key id'],
  ])('refuses %j', (extra, message) => {
    expect(() => resolveS3Options({ s3: { ...base, ...extra } })).toThrow(message)
  })
})

async function uploadOne(options: S3Options): Promise<string> {
  const uploader = new PayloadUploader(createS3Client(options), options)
  const pointer = await uploader.upload(Buffer.from(JSON.stringify({ secret: 'payload', at: Math.random() })), Date.now(), { at: Number.POSITIVE_INFINITY })
  return pointer.$ref.replace(`s3://${options.bucket}/`, '')
}

describe('s3.sse reaches S3 on every PutObject', () => {
  const moto = motoEndpoint('security-transport.test.ts')

  it.skipIf(!moto).each([
    ['AES256', undefined],
    ['aws:kms', 'alias/sluice-logs'],
  ] as const)('moto stores the object with %s (key %s)', async (sse, sseKmsKeyId) => {
    const bucket = `sse-${process.pid}-${Date.now().toString(36)}`
    const credentials = (): { accessKeyId: string; secretAccessKey: string } => ({ accessKeyId: 'testing', secretAccessKey: 'testing' })
    const client = new S3Client({ endpoint: moto, region: 'us-east-1', forcePathStyle: true, credentials: credentials() })
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    const options = resolveS3Options({ s3: { bucket, endpoint: moto, forcePathStyle: true, credentials: credentials(), sse, ...(sseKmsKeyId ? { sseKmsKeyId } : {}) } }) as S3Options
    const key = await uploadOne(options)
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    expect(head.ServerSideEncryption).toBe(sse)
    if (sseKmsKeyId) expect(head.SSEKMSKeyId).toContain('sluice-logs')
  })

  it.skipIf(!s3Endpoint)('s3rver accepts the headers', async () => {
    const options = resolveS3Options({ s3: { ...localS3Options({ prefix: uniquePrefix() }), sse: 'aws:kms', sseKmsKeyId: 'alias/sluice-logs' } }) as S3Options
    expect(await uploadOne(options)).toMatch(/\.json\.gz$/)
  })
})
