/**
 * Exit paths of a real app process: process.exit(), the loop running dry,
 * an uncaught exception, sluice.close(), SIGTERM/SIGINT through closeOnSignals,
 * and an exit while the database is gone (bounded by the exit budget).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { appRowCount, databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'

const APP = fileURLToPath(new URL('../fixtures/exiting-app.mjs', import.meta.url))
const sql = sqlClient()
afterAll(() => sql.end())

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

async function runApp(mode: string, table: string, count: number, url = databaseUrl(), signal?: NodeJS.Signals): Promise<Run> {
  const started = Date.now()
  const child = spawn(process.execPath, [APP, mode, url, table, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (signal && stdout.includes('ready\n')) child.kill(signal)
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code, gotSignal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  return { code, signal: gotSignal, stdout, stderr, ms: Date.now() - started }
}

describe('nothing accepted is lost on exit', () => {
  it.each(['process-exit', 'natural', 'close'])('commits everything when the app leaves by %s', async (mode) => {
    const table = uniqueTable('exit')
    const run = await runApp(mode, table, 5000)
    expect(run.code).toBe(0)
    expect(await appRowCount(sql, table)).toBe(5000)
    expect(run.stderr).toBe('')
    if (mode === 'close') expect(JSON.parse(run.stdout)).toMatchObject({ received: 5000, written: 5000, dropped: 0, failed: 0 })
  })

  // A few lines logged in the app's last turn: the worker sleeps and their doorbell is still pending (issue 25).
  it.each(['process-exit', 'natural', 'close'])('commits the last few lines, logged while the worker slept, when the app leaves by %s', async (mode) => {
    const table = uniqueTable('exit')
    const run = await runApp(mode, table, 3)
    expect(run.code).toBe(0)
    expect(await appRowCount(sql, table)).toBe(3)
    expect(run.stderr).toBe('')
  })

  it('commits everything when the app dies of an uncaught exception', async () => {
    const table = uniqueTable('exit')
    const run = await runApp('throw', table, 2000)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('app crashed')
    expect(await appRowCount(sql, table)).toBe(2000)
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('drains on %s with closeOnSignals, then exits by the signal', async (signal) => {
    const table = uniqueTable('exit')
    const run = await runApp('signal', table, 3000, databaseUrl(), signal)
    expect(run.signal).toBe(signal)
    expect(await appRowCount(sql, table)).toBe(3000)
  })

  it('gives up within the exit budget when the database is unreachable, counting what it could not write', async () => {
    const table = uniqueTable('exit')
    const run = await runApp('process-exit', table, 1000, 'postgres://nobody:x@127.0.0.1:9/none')
    expect(run.code).toBe(0)
    expect(run.ms).toBeLessThan(9500)
    expect(run.stderr).toMatch(/pino-sluice: received=1000 written=0 dropped=0 failed=1000 \(failed_db_unavailable=1000\)/)
  })
})
