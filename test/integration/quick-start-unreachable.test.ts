/**
 * Issue 16.4: the Quick start with DATABASE_URL at a port nothing listens on
 * (a real closed port), and at one that accepts and never answers (a real
 * proxy process, stalled). Within about the connect timeout one stderr line
 * says the database cannot be reached and that records are held and retried;
 * flush settles within the retry budget and the counters say what happened;
 * the totals line still comes at exit.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../dev/local-postgres.js'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'

const APP = fileURLToPath(new URL('../fixtures/quick-start.mjs', import.meta.url))
const BUDGET_MS = 2000

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** ms from spawn to the "cannot reach" line. */
  toldAfter: number
}

async function runQuickStart(url: string, mode: 'transport' | 'sluice', connectTimeoutMs?: number): Promise<Run> {
  const args = [APP, mode, String(BUDGET_MS), ...(connectTimeoutMs ? [String(connectTimeoutMs)] : [])]
  const started = Date.now()
  const child = spawn(process.execPath, args, { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let toldAfter = Number.NaN
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    if (Number.isNaN(toldAfter) && stderr.includes('cannot reach the database')) toldAfter = Date.now() - started
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr, toldAfter }
}

function flushed(run: Run): { ms: number; counters: { received: number; written: number; failed: number; failed_db_unavailable: number } } {
  const match = /^flushed (\d+) (.*)$/m.exec(run.stdout)
  expect(match, `flush never called back; stdout: ${run.stdout} stderr: ${run.stderr}`).not.toBeNull()
  return { ms: Number(match?.[1]), counters: JSON.parse(match?.[2] as string) }
}

describe('quick start with the database at a closed port', () => {
  it.each(['transport', 'sluice'] as const)('%s: says so at once, flush settles within the retry budget with the counters, totals at exit', async (mode) => {
    const port = await freePort()
    const run = await runQuickStart(`postgres://app:s3cret@127.0.0.1:${port}/app`, mode)
    expect(run.code).toBe(0)
    // Refused connections fail at once: the line comes as soon as the worker has started, well within the connect timeout (5 s).
    expect(run.toldAfter).toBeLessThan(5000)
    expect(run.stderr).toContain(`pino-sluice: cannot reach the database at 127.0.0.1:${port} (ECONNREFUSED`)
    expect(run.stderr).toContain('records are held and retried for up to 2 s (postgres.retry.budgetMs)')
    const flush = flushed(run)
    expect(flush.ms).toBeLessThan(BUDGET_MS + 1000)
    expect(flush.counters).toMatchObject({ received: 1, written: 0, failed: 1, failed_db_unavailable: 1 })
    expect(run.stderr).toContain('pino-sluice: received=1 written=0 dropped=0 failed=1 (failed_db_unavailable=1)')
    expect(run.stderr.match(/cannot reach the database/g)).toHaveLength(1)
    expect(run.stderr).not.toContain('s3cret')
  })
})

describe('quick start with a database that accepts and never answers', () => {
  let proxy: FaultProxy
  beforeAll(async () => {
    // The proxy's target does not matter: it never forwards.
    proxy = await startFaultProxy(`postgres://app:s3cret@127.0.0.1:${await freePort()}/app`)
    await proxy.stall()
  })
  afterAll(() => proxy.close())

  it('says so within about the connect timeout, and flush settles within the retry budget plus one connect timeout', async () => {
    const run = await runQuickStart(proxy.url, 'transport', 1000)
    expect(run.code).toBe(0)
    expect(run.toldAfter).toBeGreaterThanOrEqual(1000)
    expect(run.toldAfter).toBeLessThan(1000 + 2500)
    expect(run.stderr).toContain(`pino-sluice: cannot reach the database at 127.0.0.1:${proxy.port} (CONNECT_TIMEOUT`)
    const flush = flushed(run)
    expect(flush.ms).toBeLessThan(BUDGET_MS + 1000 + 1000)
    expect(flush.counters).toMatchObject({ received: 1, written: 0, failed: 1, failed_db_unavailable: 1 })
    expect(run.stderr).toContain('pino-sluice: received=1 written=0 dropped=0 failed=1 (failed_db_unavailable=1)')
  })
})
