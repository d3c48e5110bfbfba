/**
 * Starts one real S3-compatible server (s3rver, loopback, temp dir) for the
 * run, with the test bucket created. Test files get its endpoint through
 * `inject('s3Endpoint')`; when it cannot start, nothing is provided and the
 * S3 tests skip with a loud warning instead of passing silently.
 */
import type { TestProject } from 'vitest/node'
import { startLocalS3, type LocalS3 } from '../../dev/local-s3.js'

export const S3_TEST_BUCKET = 'sluice-test'

let server: LocalS3 | undefined

export async function setup(project: TestProject): Promise<void> {
  try {
    server = await startLocalS3({ buckets: [S3_TEST_BUCKET] })
    project.provide('s3Endpoint', server.endpoint)
  } catch (error) {
    console.warn(`\n!!! s3rver could not start, the S3 tests will be SKIPPED: ${error instanceof Error ? error.message : String(error)}\n`)
  }
}

export async function teardown(): Promise<void> {
  await server?.stop()
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Undefined when s3rver could not start. */
    s3Endpoint?: string
  }
}
