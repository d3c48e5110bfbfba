/**
 * The disk spool with real processes and a real Postgres stopped and started
 * again on the same data (issue 24): nothing lost and nothing written twice
 * through an outage longer than the retry budget, a SIGKILL during the outage
 * followed by a second process on the same dir, two processes sharing a dir
 * that exit during an outage, and a spool too small for the outage (dropped
 * and counted). Each app is test/fixtures/spool-app.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { Spool } from '../../src/spool/spool.js'
import { OWNER_FILE } from '../../src/spool/spool-claim.js'
import { useOwnPostgres } from '../support/own-postgres.js'
import { uniqueTable } from '../support/transport.js'

const APP = fileURLToPath(new URL('../fixtures/spool-app.mjs', import.meta.url))
const own = useOwnPostgres()
const base = mkdtempSync(join(tmpdir(), 'sluice-spool-outage-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let dirs = 0
const freshDir = (): string => join(base, `spool-${++dirs}`)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

type Stats = Record<'received' | 'recovered' | 'written' | 'dropped' | 'failed' | 'spool_records' | 'spooled' | 'replayed' | 'dropped_spool_full', number>

interface App {
  readonly child: ChildProcess
  /** Resolves when every record is logged (the app printed 'logged'). */
  readonly logged: Promise<void>
  /** Resolves with the final counters (undefined when the app was killed). */
  readonly done: Promise<Stats | undefined>
  stderr(): string
}

function startApp(options: Record<string, unknown>): App {
  const child = spawn(process.execPath, [APP, JSON.stringify({ url: own.server.url, ...options })], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let markLogged: () => void = () => {}
  const logged = new Promise<void>((resolve) => (markLogged = resolve))
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.includes('logged\n')) markLogged()
  })
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = once(child, 'exit').then(() => {
    const last = stdout.trim().split('\n').at(-1) ?? ''
    return last.startsWith('{') ? (JSON.parse(last) as Stats) : undefined
  })
  return { child, logged, done, stderr: () => stderr }
}

/** received + recovered == written + dropped + failed + spool_records */
function expectBalanced(s: Stats): void {
  expect(s.received + s.recovered).toBe(s.written + s.dropped + s.failed + s.spool_records)
}

/** Rows of the test's records (drop notices left out): how many, and how many distinct (tag, i). */
async function rowsOf(table: string): Promise<{ rows: number; distinct: number }> {
  const [row] = await own.sql<{ rows: number; distinct: number }[]>`
    select count(*)::int as rows, count(distinct (data->>'tag', data->>'i'))::int as distinct
    from ${own.sql(table)} where msg = 'spool-test'`
  return row as { rows: number; distinct: number }
}

describe('the disk spool through a Postgres outage (real processes)', () => {
  it('keeps all 20,000 records logged during an outage longer than the retry budget, and writes each once', async () => {
    const table = uniqueTable('spool_outage')
    const dir = freshDir()
    // Create the table while the database is up, then stop it.
    const warm = startApp({ table, dir, count: 1, spreadMs: 0, after: 'settle', tag: 'warm' })
    await warm.done
    await own.server.pause()
    const app = startApp({ table, dir, count: 20_000, spreadMs: 3000, budgetMs: 1500, after: 'settle', tag: 'a' })
    await app.logged
    await sleep(3000)
    await own.server.restart()
    const stats = (await app.done) as Stats
    expect(stats).toMatchObject({ received: 20_000, written: 20_000, dropped: 0, failed: 0, spool_records: 0 })
    expect(stats.spooled).toBeGreaterThan(0)
    expect(stats.replayed).toBe(stats.spooled)
    expectBalanced(stats)
    expect(await rowsOf(table)).toEqual({ rows: 20_001, distinct: 20_001 })
    expect(readdirSync(dir)).toEqual([])
  })

  it('keeps all 20,000 across a SIGKILL during the outage: the next process on the same dir writes them, once', async () => {
    const table = uniqueTable('spool_kill')
    const dir = freshDir()
    const warm = startApp({ table, dir, count: 1, spreadMs: 0, after: 'settle', tag: 'warm' })
    await warm.done
    await own.server.pause()
    const doomed = startApp({ table, dir, count: 20_000, spreadMs: 3000, budgetMs: 1500, after: 'hang', tag: 'k' })
    await doomed.logged
    await sleep(4000)
    doomed.child.kill('SIGKILL')
    expect(await doomed.done).toBeUndefined()
    await own.server.restart()
    const next = startApp({ table, dir, count: 0, spreadMs: 0, after: 'settle', tag: 'next' })
    const stats = (await next.done) as Stats
    expect(stats.recovered).toBe(20_000)
    expect(stats).toMatchObject({ received: 0, written: 20_000, dropped: 0, failed: 0, spool_records: 0 })
    expectBalanced(stats)
    expect(await rowsOf(table)).toEqual({ rows: 20_001, distinct: 20_001 })
  })

  it('two processes sharing a dir exit during the outage; two later ones replay every record exactly once between them', async () => {
    const table = uniqueTable('spool_shared')
    const dir = freshDir()
    const warm = startApp({ table, dir, count: 1, spreadMs: 0, after: 'settle', tag: 'warm' })
    await warm.done
    await own.server.pause()
    const first = [startApp({ table, dir, count: 5000, spreadMs: 500, budgetMs: 500, exitBudgetMs: 2000, after: 'close', tag: 'x' }), startApp({ table, dir, count: 5000, spreadMs: 500, budgetMs: 500, exitBudgetMs: 2000, after: 'close', tag: 'y' })]
    const exited = (await Promise.all(first.map((a) => a.done))) as Stats[]
    // Back up whatever the assertions say, so that the tests after this one find a database.
    await own.server.restart()
    // On a busy machine one process can start after the other has exited and take over its claim: count them together.
    expect(exited.reduce((sum, s) => sum + s.spool_records, 0)).toBe(10_000)
    for (const [k, s] of exited.entries()) {
      expect(s.received).toBe(5000)
      expect(s.written + s.failed + s.dropped).toBe(0)
      expectBalanced(s)
      expect(first[k]?.stderr()).toMatch(/spool_records=\d+ wait in the spool at .*sluice-spool-outage-/)
    }
    const second = [startApp({ table, dir, count: 0, spreadMs: 0, after: 'settle', tag: 'n1' }), startApp({ table, dir, count: 0, spreadMs: 0, after: 'settle', tag: 'n2' })]
    const replayed = (await Promise.all(second.map((a) => a.done))) as Stats[]
    expect(replayed.reduce((sum, s) => sum + s.recovered, 0)).toBe(10_000)
    expect(replayed.reduce((sum, s) => sum + s.written, 0)).toBe(10_000)
    for (const s of replayed) expectBalanced(s)
    expect(await rowsOf(table)).toEqual({ rows: 10_001, distinct: 10_001 })
  })

  it('spills raw what a 300,000-record tight-loop burst leaves the channel no room for, and replays it once', async () => {
    const table = uniqueTable('spool_burst')
    const dir = freshDir()
    // The default connect timeout: the worker's event loop is busy spilling during the burst.
    const app = startApp({ table, dir, count: 300_000, spreadMs: 0, connectTimeoutMs: 5000, after: 'settle', tag: 'b' })
    const stats = (await app.done) as Stats
    console.log(`300k burst with a spool: written ${stats.written}, spooled ${stats.spooled}, dropped ${stats.dropped}`)
    expect(stats.received).toBe(300_000)
    expect(stats.spooled).toBeGreaterThan(0)
    expect(stats).toMatchObject({ failed: 0, spool_records: 0, replayed: stats.spooled })
    // What the app thread could not put in the ring (the spill did not keep up) is dropped and counted there.
    expect(stats.written + stats.dropped).toBe(300_000)
    expectBalanced(stats)
    expect(await rowsOf(table)).toEqual({ rows: stats.written, distinct: stats.written })
  }, 120_000)

  it('keeps all of a 300,000-record tight-loop burst when the ring can hold the moments the worker is off the CPU: spilled raw, replayed once', async () => {
    const table = uniqueTable('spool_burst_all')
    const dir = freshDir()
    // 64 MiB: the app's tight loop outruns a worker that the scheduler takes off the CPU for a while
    // (2 shared cores); with the default 4 MiB the ring then fills and the app drops (the test above).
    const app = startApp({ table, dir, count: 300_000, spreadMs: 0, connectTimeoutMs: 5000, ringBytes: 64 * 1024 * 1024, after: 'settle', tag: 'a' })
    const stats = (await app.done) as Stats
    console.log(`300k burst, 64 MiB ring, with a spool: written ${stats.written}, spooled ${stats.spooled}, dropped ${stats.dropped}`)
    expect(stats).toMatchObject({ received: 300_000, written: 300_000, dropped: 0, failed: 0, spool_records: 0, replayed: stats.spooled })
    expect(stats.spooled).toBeGreaterThan(0)
    expectBalanced(stats)
    expect(await rowsOf(table)).toEqual({ rows: 300_000, distinct: 300_000 })
    const [dups] = await own.sql<{ n: number }[]>`select count(*)::int as n from (select writer_id, seq from ${own.sql(table)} group by 1, 2 having count(*) > 1) d`
    expect(dups?.n).toBe(0)
  }, 120_000)

  it('replays a batch committed just before a crash without writing it again (the commit ledger)', async () => {
    const table = uniqueTable('spool_ledger')
    const dir = freshDir()
    const warm = startApp({ table, dir, count: 3, spreadMs: 0, after: 'settle', tag: 'w' })
    await warm.done
    const [ledger] = await own.sql<{ writer_id: string }[]>`select writer_id from ${own.sql(`${table}_ledger`)} limit 1`
    const [row] = await own.sql<{ line: string }[]>`select data::text as line from ${own.sql(table)} where msg = 'spool-test' and data->>'i' = '0'`
    // A crashed process left the committed batch (seqs 1-3) in its spool, plus one record never written (seq 4).
    const crashed = Spool.open({ dir, maxBytes: 1024 * 1024 }, () => {})
    const line = (i: number): string => JSON.stringify({ ...JSON.parse(row?.line ?? '{}'), i, msg: 'spool-test', level: 30, time: Date.now() })
    crashed.append(ledger?.writer_id ?? '', 1, [line(0), line(1), line(2), line(3)])
    crashed.flush()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    writeFileSync(join(crashed.path, OWNER_FILE), JSON.stringify({ host: hostname(), pid: Number(dead), startedAt: 0 }))
    const next = startApp({ table, dir, count: 0, spreadMs: 0, after: 'settle', tag: 'n' })
    const stats = (await next.done) as Stats
    expect(stats).toMatchObject({ recovered: 4, written: 4, failed: 0, dropped: 0, spool_records: 0 })
    expect(await rowsOf(table)).toEqual({ rows: 4, distinct: 4 })
  })

  it('drops and counts what a spool too small for the outage cannot hold, and writes the rest once', async () => {
    const table = uniqueTable('spool_small')
    const dir = freshDir()
    const warm = startApp({ table, dir, count: 1, spreadMs: 0, after: 'settle', tag: 'warm' })
    await warm.done
    await own.server.pause()
    const app = startApp({ table, dir, count: 20_000, spreadMs: 1000, budgetMs: 500, maxBytes: 1024 * 1024, after: 'settle', tag: 's' })
    await app.logged
    await sleep(1500)
    await own.server.restart()
    const stats = (await app.done) as Stats
    expect(stats.received).toBe(20_000)
    expect(stats.dropped_spool_full).toBeGreaterThan(0)
    expect(stats.written).toBeGreaterThan(0)
    expect(stats.spool_records).toBe(0)
    expectBalanced(stats)
    expect(stats.received).toBe(stats.written + stats.dropped + stats.failed)
    const rows = await rowsOf(table)
    expect(rows.rows).toBe(rows.distinct)
    expect(rows.rows).toBe(stats.written + 1)
  })
})
