/**
 * Issue 27.2 and 27.5: a connection string's user name and password never
 * reach a message or an error, whatever characters they hold. A raw `@` in
 * the password (postgres.js accepts it) must not put part of it into "cannot
 * reach the database at …"; a URL postgres.js cannot parse (a raw `#`) is
 * refused at start without being echoed, and with pino.transport() the lines
 * logged before the worker refused it are counted.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../dev/local-postgres.js'
import { isParseableConnectionString, serverAddress } from '../../sinks/postgres/connection-string.js'
import { createSluice, createStats } from '../../src/index.js'
import { WORKER_ENTRY } from '../support/transport.js'

const APP = fileURLToPath(new URL('../fixtures/quick-start.mjs', import.meta.url))
const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const SECRETS = ['Hunter', '2secret', 'SEC#', 'RETPW']

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

describe('serverAddress: host and port only', () => {
  it.each([
    ['postgres://atuser:Hunter@2secret@127.0.0.1:1/db', '127.0.0.1:1'],
    ['postgres://atuser:Hunter@2secret@db.example.com/db', 'db.example.com:5432'],
    ['postgresql://u:p@h1:6432,h2:7000/db?sslmode=require', 'h1:6432'],
    ['postgres://u:Hunter@2secret@h1:1,h2:2/db', 'h1:1'],
    ['postgres://u:p@[::1]:5433/db', '[::1]:5433'],
    ['postgres://u:p@[::1]/db', '[::1]:5432'],
    ['postgres://db.internal:5432/app', 'db.internal:5432'],
    ['postgres://u:Hunter%402secret@host:5/db', 'host:5'],
  ])('%s -> %s', (url, expected) => {
    expect(serverAddress(url)).toBe(expected)
  })

  it('says "the configured server" rather than guess', () => {
    expect(serverAddress('postgres://postgres:SEC#RETPW@127.0.0.1:5432/db')).toBe('the configured server')
    expect(serverAddress('postgres://u:p@/db?host=/var/run/postgresql')).toBe('the configured server')
  })

  it('agrees with postgres.js on what parses', () => {
    expect(isParseableConnectionString('postgres://atuser:Hunter@2secret@127.0.0.1:1/db')).toBe(true)
    expect(isParseableConnectionString('postgres://postgres:SEC#RETPW@127.0.0.1:5432/db')).toBe(false)
    expect(isParseableConnectionString('postgres://u:100%zz@host/db')).toBe(false)
  })
})

describe('a password with a raw @, database unreachable', () => {
  it.each(['transport', 'sluice'] as const)('%s: stderr names host and port only', async (mode) => {
    const port = await freePort()
    const child = spawn(process.execPath, [APP, mode, '500'], {
      env: { ...process.env, DATABASE_URL: `postgres://atuser:Hunter@2secret@127.0.0.1:${port}/app` },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.resume()
    await once(child, 'exit')
    expect(stderr).toContain(`pino-sluice: cannot reach the database at 127.0.0.1:${port} (ECONNREFUSED`)
    expectNoSecret(stderr)
  })

  it('the CLI says nothing of the password either', async () => {
    const port = await freePort()
    const env = { ...process.env, DATABASE_URL: `postgres://atuser:Hunter@2secret@127.0.0.1:${port}/app` }
    for (const args of [['trace', '0af7651916cd43dd8448eb211c80319c'], ['tail', '--count', '1', '--timeout', '1s'], ['prune', '--retention', '14d', '--dry-run']]) {
      const run = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 30_000 })
      expect(run.status, args.join(' ')).not.toBe(0)
      expectNoSecret(run.stdout + run.stderr)
    }
  })

  it('sluice tail --url http://user:pass@… never shows the user info', () => {
    const run = spawnSync(process.execPath, [CLI, 'tail', '--url', 'http://atuser:Hunter@127.0.0.1:1/', '--count', '1', '--timeout', '1s'], { encoding: 'utf8', timeout: 30_000 })
    expect(run.stdout + run.stderr).toContain('127.0.0.1:1')
    expectNoSecret(run.stdout + run.stderr)
  })
})

describe('a connection string postgres.js cannot parse (a raw # in the password)', () => {
  const url = 'postgres://postgres:SEC#RETPW@127.0.0.1:5432/db'

  it('createSluice refuses it at once, naming the option and the fix, without the URL anywhere on the error', () => {
    let thrown: unknown
    try {
      createSluice({ postgres: { url } })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(Error)
    expect((thrown as Error).message).toContain('options.postgres.url cannot be parsed')
    expect((thrown as Error).message).toContain('# as %23')
    expectNoSecret(inspect(thrown, { depth: 10, showHidden: true }))
    expectNoSecret(JSON.stringify(thrown))
  })

  it('pino.transport: the error event carries no URL, and the 5 lines logged before are counted failed', async () => {
    const stats = createStats()
    const transport = pino.transport({ target: WORKER_ENTRY, options: { postgres: { url }, counters: stats.buffer }, worker: { stderr: true } as never })
    const failed = once(transport, 'error') as Promise<[Error]>
    const log = pino(transport)
    for (let i = 0; i < 5; i++) log.info({ i }, 'before the worker refused the options')
    const [error] = await failed
    expect(error.message).toContain('options.postgres.url cannot be parsed')
    expectNoSecret(inspect(error, { depth: 10, showHidden: true }))
    expectNoSecret(JSON.stringify(error))
    const counters = stats.read()
    expect(counters).toMatchObject({ received: 5, written: 0, failed: 5, failed_db_unavailable: 5 })
  })

  it('pino.transport with another store of record: counted failed_store_unavailable', async () => {
    const stats = createStats()
    const transport = pino.transport({ target: WORKER_ENTRY, options: { postgres: false, file: { path: '' }, counters: stats.buffer }, worker: { stderr: true } as never })
    const failed = once(transport, 'error') as Promise<[Error]>
    const log = pino(transport)
    for (let i = 0; i < 3; i++) log.info({ i }, 'before')
    await failed
    expect(stats.read()).toMatchObject({ received: 3, failed: 3, failed_store_unavailable: 3 })
  })
})
