import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { COUNTER_NAMES, resolveOptions, OptionsError } from '../../src/index.js'
import type { StatsSnapshot } from '../../src/stats/stats-snapshot.js'
import { appRowCount, databaseUrl, expectBalanced, sqlClient, startTransport, uniqueTable } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())
const dir = mkdtempSync(join(tmpdir(), 'sluice-stats-'))

function readStatsFile(file: string): StatsSnapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as StatsSnapshot
}

describe('options.stats', () => {
  const resolveStats = (stats: unknown) => resolveOptions({ postgres: { url: 'postgres://x@127.0.0.1/db' }, stats }).stats

  it('resolves a file path and a port with the default interval', () => {
    expect(resolveStats({ file: join(dir, 'a.json'), port: 0 })).toEqual({ file: join(dir, 'a.json'), port: 0, host: '127.0.0.1', intervalMs: 1000 })
    expect(resolveStats(undefined)).toBeUndefined()
  })

  it('accepts a file in a directory that does not exist yet (the worker reports it at run time instead)', () => {
    expect(resolveStats({ file: join(dir, 'missing-dir', 'x.json') })).toMatchObject({ file: join(dir, 'missing-dir', 'x.json') })
  })

  it.each([
    [{}, /options\.stats needs a file, a port or both/],
    [{ port: 70000 }, /options\.stats\.port must be an integer between 0 and 65535/],
    [{ port: '9464' }, /options\.stats\.port .* got "9464"/],
    [{ file: '' }, /options\.stats\.file must be a non-empty string/],
    [{ file: join(dir, 'b.json'), intervalMs: 0 }, /options\.stats\.intervalMs must be an integer between 50/],
    [{ file: join(dir, 'b.json'), interval: 100 }, /unknown key "interval".*Did you mean "intervalMs"/],
    ['yes', /options\.stats must be an object, got "yes"/],
  ])('refuses %j naming the option and the fix', (stats, message) => {
    expect(() => resolveStats(stats)).toThrow(OptionsError)
    expect(() => resolveStats(stats)).toThrow(message)
  })
})

describe('stats publishing under a burst', () => {
  it('writes the counters to the file and serves /metrics and /stats on loopback, then publishes a final snapshot and frees the port', async () => {
    const file = join(dir, 'burst.json')
    // A tiny channel so a burst overflows and the dropped counters move.
    const h = await startTransport({ stats: { file, port: 0, intervalMs: 100 }, channel: { maxRecords: 200 }, exit: { report: false } })
    await expect.poll(() => existsSync(file) && readStatsFile(file).http !== null, { timeout: 5000 }).toBe(true)
    const first = readStatsFile(file)
    expect(first).toMatchObject({ schema: 2, interval_ms: 100, final: false, writer: { pid: process.pid } })
    expect(Object.keys(first)).toEqual(['schema', 'time', 'time_ms', 'interval_ms', 'writer', 'http', 'final', 'counters', 'sinks'])
    expect(Object.keys(first.writer)).toEqual(['hostname', 'pid', 'thread_id', 'started_ms'])
    expect(Object.keys(first.counters)).toEqual([...COUNTER_NAMES, 'dropped', 'failed'])
    const url = first.http?.url as string
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const emitted = 30_000
    for (let i = 0; i < emitted; i++) h.logger.info({ i, payload: 'x'.repeat(100) }, 'burst')
    await h.flush()

    await expect.poll(() => readStatsFile(file).counters.received, { timeout: 5000 }).toBe(emitted)
    const fromFile = readStatsFile(file)
    expect(fromFile.counters.dropped_overflow).toBeGreaterThan(0)

    const metrics = await (await fetch(`${url}/metrics`)).text()
    const live = h.stats.readFlat()
    expect(metrics).toContain('# HELP pino_sluice_dropped_total Records dropped, by reason.')
    expect(metrics).toContain('# TYPE pino_sluice_dropped_total counter')
    expect(metrics).toContain(`pino_sluice_dropped_total{reason="overflow"} ${live.dropped_overflow}`)
    expect(metrics).toContain(`pino_sluice_received_total ${emitted}`)
    expect(metrics).toContain(`pino_sluice_written_total ${live.written}`)
    expect(metrics).toMatch(/# TYPE pino_sluice_queued_records gauge\npino_sluice_queued_records \d+/)
    expect(metrics).toContain('pino_sluice_failed_total{reason="db_unavailable"} 0')
    // Every sample line is `name{labels} value`.
    for (const line of metrics.trim().split('\n').filter((l) => !l.startsWith('#'))) expect(line).toMatch(/^pino_sluice_[a-z_]+(\{[^}]*\})? \d+$/)

    const statsResponse = await fetch(`${url}/stats`)
    expect(statsResponse.headers.get('content-type')).toBe('application/json')
    const overHttp = (await statsResponse.json()) as StatsSnapshot
    // stats.read() is the snapshot's counters plus its per-sink counts.
    const { sinks: liveSinks, ...liveCounters } = h.stats.read()
    expect(overHttp.counters).toEqual(liveCounters)
    expect(overHttp.sinks).toEqual(liveSinks)
    expect((await fetch(`${url}/nope`)).status).toBe(404)

    await h.close()
    const final = readStatsFile(file)
    expect(final.final).toBe(true)
    const { sinks: finalSinks, ...finalLive } = h.stats.read()
    expect(final.counters).toEqual(finalLive)
    expect(final.sinks).toEqual(finalSinks)
    expect(final.counters.received).toBe(final.counters.written + final.counters.dropped_overflow)
    expect(await appRowCount(sql, h.table)).toBe(final.counters.written)
    expectBalanced(h.stats, expect)
    await expect(fetch(`${url}/stats`)).rejects.toThrow()
  })

  it('serves HTTP without a file on a fixed port', async () => {
    const { freePort } = await import('../../dev/local-postgres.js')
    const port = await freePort()
    const h = await startTransport({ stats: { port } })
    h.logger.info('one')
    await h.flush()
    const snapshot = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as StatsSnapshot
    expect(snapshot.counters).toMatchObject({ received: 1, written: 1 })
    expect(snapshot.http).toEqual({ port, url: `http://127.0.0.1:${port}` })
    await h.close()
    expectBalanced(h.stats, expect)
    await expect(fetch(`http://127.0.0.1:${port}/stats`)).rejects.toThrow()
  })
})

describe('a stats file that cannot be written', () => {
  const INDEX = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))

  it('is reported once on stderr while the app keeps logging, and written once its directory appears', async () => {
    // A real app process: the option must not stop it, and stderr must carry one clear line.
    const missing = join(dir, 'not-yet')
    const file = join(missing, 'app.sluice.json')
    const table = uniqueTable('stats_missing_dir')
    const app = `
import { mkdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import pino from 'pino'
const { createSluice } = await import(pathToFileURL(process.env.INDEX).href)
const sluice = createSluice({ postgres: { url: process.env.DATABASE_URL, table: process.env.TABLE }, stats: { file: process.env.FILE, intervalMs: 50 } })
const log = pino(sluice.transport)
for (let i = 0; i < 100; i++) log.info({ i }, 'still logging')
await sluice.flush()
await new Promise((resolve) => setTimeout(resolve, 300)) // several intervals, each failing
mkdirSync(process.env.MISSING)
for (let i = 0; i < 100; i++) log.info({ i }, 'after the directory appeared')
await new Promise((resolve) => setTimeout(resolve, 300))
await sluice.close()
const { received, written, dropped, failed } = sluice.stats.read()
console.log(JSON.stringify({ received, written, dropped, failed }))
`
    // A file, not `node -e`: the worker thread inherits the process's execArgv. In the checkout, so `pino` resolves.
    const scripts = join(fileURLToPath(new URL('../..', import.meta.url)), '.tmp')
    mkdirSync(scripts, { recursive: true })
    const script = join(scripts, `missing-dir-app-${process.pid}.mjs`)
    writeFileSync(script, app)
    onTestFinished(() => rmSync(script, { force: true }))
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, INDEX, DATABASE_URL: databaseUrl(), TABLE: table, FILE: file, MISSING: missing },
      timeout: 30_000,
    })
    expect(JSON.parse(stdout)).toEqual({ received: 200, written: 200, dropped: 0, failed: 0 })
    const lines = stderr.split('\n').filter((line) => line.includes('stats file'))
    expect(lines).toEqual([
      `pino-sluice: cannot write stats file ${file}: its directory ${missing} does not exist (create it, or set stats.file to another path). Logs keep flowing; the file is retried every interval.`,
    ])
    expect(await appRowCount(sql, table)).toBe(200)
    expect(readStatsFile(file)).toMatchObject({ final: true, counters: { received: 200, written: 200 } })
  })
})
