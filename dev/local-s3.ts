/**
 * A real S3-compatible server on loopback for the demo, the tests and the
 * benchmarks: `s3rver` from npm (Put/Get/Head/List/Delete over HTTP, objects
 * in a temp dir removed on stop). It accepts any signature, so clients use
 * the dummy credentials below; it needs path-style URLs and rejects the
 * CRC32 checksums the SDK sends by default, hence `WHEN_REQUIRED`.
 *
 * It serves from the calling thread. pino's `transport.end()` blocks the
 * app thread until the worker has drained, so when app and server share a
 * thread, `flush()` before `end()` or uploads made while closing wait for
 * the exit budget.
 */
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'

export const LOCAL_S3_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  readonly port: number
  /** The `s3` options the transport needs to talk to this server (add `bucket`). */
  readonly clientOptions: {
    endpoint: string
    region: string
    forcePathStyle: true
    requestChecksumCalculation: 'WHEN_REQUIRED'
    responseChecksumValidation: 'WHEN_REQUIRED'
    credentials: { accessKeyId: string; secretAccessKey: string }
  }
  /** Closes the server and removes its objects. */
  stop(): Promise<void>
}

/** Starts s3rver on a free loopback port with the given buckets already created. */
export async function startLocalS3(options: { buckets: readonly string[] }): Promise<LocalS3> {
  const directory = join(tmpdir(), `pino-sluice-s3-${randomBytes(6).toString('hex')}`)
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  })
  let address: Awaited<ReturnType<S3rver['run']>>
  try {
    address = await server.run()
  } catch (error) {
    await rm(directory, { recursive: true, force: true })
    throw error
  }
  const endpoint = `http://127.0.0.1:${address.port}`
  let running = true
  return {
    endpoint,
    port: address.port,
    clientOptions: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: { ...LOCAL_S3_CREDENTIALS },
    },
    async stop() {
      if (running) await server.close()
      running = false
      await rm(directory, { recursive: true, force: true })
    },
  }
}
