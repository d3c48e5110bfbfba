import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createStats } from '../../src/index.js'
import { appRowCount, databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'

const TARGET = fileURLToPath(new URL('../fixtures/throwing-stage-target.mjs', import.meta.url))
const DEATH_APP = fileURLToPath(new URL('../fixtures/worker-death-app.mjs', import.meta.url))
const sql = sqlClient()
afterAll(() => sql.end())

it('tells the app with an error event when the worker crashes, and keeps the counts up to the crash', async () => {
  const stats = createStats()
  const table = uniqueTable('crash')
  const transport = pino.transport({ target: TARGET, options: { postgres: { url: databaseUrl(), table }, counters: stats.buffer } })
  await once(transport, 'ready')
  const log = pino(transport)
  log.info('first batch')
  await new Promise((resolve) => transport.flush(resolve))
  const errored = once(transport, 'error')
  log.error('second batch')
  const [error] = (await errored) as [Error]
  expect(error.message).toBe('sink exploded')
  const s = stats.read()
  expect(s).toMatchObject({ received: 2, written: 1 })
  expect(await appRowCount(sql, table)).toBe(1)
})

describe('createSluice: a worker that dies leaves nothing uncounted', () => {
  /** Runs test/fixtures/worker-death-app.mjs: its worker dies mid-burst, then it logs 100 more lines and prints its counters. */
  async function runDeath(death: 'throw' | 'oom', nodeArgs: string[], env: Record<string, string>) {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgs, DEATH_APP], {
      env: { ...process.env, DEATH: death, ...env },
      timeout: 60_000,
    })
    const result = JSON.parse(stdout.trim()) as { error: string; flush: string; stats: Record<string, number> }
    return { ...result, stderr }
  }

  function expectEveryLineCounted(stats: Record<string, number>): void {
    expect(stats.received).toBe((stats.written as number) + (stats.dropped as number) + (stats.failed as number))
  }

  it('a throw in the worker: the lines it held and those in the ring count as failed_worker_exit, reported once', async () => {
    const { error, flush, stats, stderr } = await runDeath('throw', [], { LINES: '50000', FLUSH_AT: '20000' })
    expect(error).toBe('worker bug')
    expect(flush).toMatch(/worker has stopped/)
    expectEveryLineCounted(stats)
    expect(stats.failed_worker_exit).toBeGreaterThan(0)
    // The 100 logged after the death, and any the burst logged after it, are dropped_closed.
    expect(stats.dropped_closed).toBeGreaterThanOrEqual(100)
    expect(stderr.match(/counted as failed_worker_exit/g)).toHaveLength(1)
    expect(stderr).toContain(`pino-sluice: the worker stopped with ${stats.failed_worker_exit} lines not yet written`)
  })

  it('a worker out of heap (ERR_WORKER_OUT_OF_MEMORY): every received line is written, dropped or failed', async () => {
    // A small old generation for the whole process; V8 applies it to the worker too.
    const { error, stats, stderr } = await runDeath('oom', ['--max-old-space-size=64'], { LINES: '300000' })
    expect(error).toBe('ERR_WORKER_OUT_OF_MEMORY')
    expectEveryLineCounted(stats)
    expect(stats.failed_worker_exit).toBeGreaterThan(0)
    expect(stderr.match(/counted as failed_worker_exit/g)).toHaveLength(1)
  })
})
