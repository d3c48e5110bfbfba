import postgres from 'postgres'
import { afterAll, beforeAll } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../dev/local-postgres.js'

/**
 * A Postgres of this test file's own (started before its tests, removed after),
 * for tests that stop, SIGKILL or restart the server without disturbing other files.
 */
export function useOwnPostgres(): { server: LocalPostgres; sql: postgres.Sql } {
  const own = {} as { server: LocalPostgres; sql: postgres.Sql }
  beforeAll(async () => {
    own.server = await startLocalPostgres()
    own.sql = postgres(own.server.url, { onnotice: () => {}, max: 2 })
  })
  afterAll(async () => {
    await own.sql.end({ timeout: 1 })
    await own.server.stop()
  })
  return own
}
