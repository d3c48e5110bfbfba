/**
 * The sink contract's promises where real sinks break them (issue 23), each
 * through the real worker and the real Postgres: background errors, a hung
 * fan-out sink at flush, slow stages at exit, stages that edit their batch,
 * fail-closed redaction, queue limits and start-up mistakes.
 */
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { SinkStats } from '../../src/index.js'
import { appRowCount, databaseUrl, expectBalanced, INDEX_URL, sqlClient, startTransport, type Harness } from '../support/transport.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/sinks/', import.meta.url))
const CONTRACT_SINK = join(FIXTURES, 'contract-sink.mjs')
const dir = mkdtempSync(join(tmpdir(), 'sluice-contract-'))
const sql = sqlClient()
afterAll(() => sql.end())

const sink = (name: string, options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ target: CONTRACT_SINK, name, options, ...extra })

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function logEach(h: Harness, n: number, fields: (i: number) => Record<string, unknown> = () => ({})): Promise<void> {
  for (let i = 0; i < n; i++) {
    h.logger.info(fields(i), `line ${i}`)
    await h.flush()
  }
}

describe('imports run one way', () => {
  it('nothing in sinks/ imports from src/', () => {
    const root = fileURLToPath(new URL('../../sinks/', import.meta.url))
    const offenders = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from '(\.\.\/)+src\//.test(readFileSync(join(root, file), 'utf8')))
    expect(offenders).toEqual([])
  })
})

describe('background errors in a sink', () => {
  it("a socket 'error' with no listener, an unawaited rejection and a timer throw: caught, counted, named; Postgres writes every record", async () => {
    const h = await startTransport({ sinks: [sink('noisy', { mode: 'background-errors', port: await closedPort() })] })
    for (let i = 0; i < 50; i++) h.logger.info(`line ${i}`)
    await h.flush()
    // The errors arrive after the write answered: wait for all three kinds.
    await waitFor(() => h.stats.read().sink_background_errors >= 3)
    h.logger.info('after the errors')
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 51, written: 51, dropped: 0, failed: 0 })
    expect(s.sinks.noisy?.delivered).toBe(51)
    expect(await appRowCount(sql, h.table)).toBe(51)
    const stderr = h.stderr()
    expect(stderr).toMatch(/sink noisy: an error outside its calls, caught .*ECONNREFUSED/)
    expect(stderr).toContain('sink noisy: an error outside its calls, caught (the worker and the other sinks go on): fire-and-forget rejected')
    expect(stderr).toContain('sink noisy: an error outside its calls, caught (the worker and the other sinks go on): thrown from a timer')
    expect(s.sink_background_errors).toBeGreaterThanOrEqual(3)
  })
})

describe('background errors in a sink, createSluice', () => {
  it("its own worker (no thread-stream listeners) contains them too", async () => {
    const { createSluice } = (await import(INDEX_URL)) as typeof import('../../src/index.js')
    const table = `contract_ring_${process.pid}`
    const sluice = createSluice({ postgres: { url: databaseUrl(), table }, sinks: [sink('noisy', { mode: 'background-errors', port: await closedPort() })] })
    let workerError: unknown
    sluice.transport.on('error', (error: unknown) => (workerError = error))
    const log = (await import('pino')).default(sluice.transport)
    for (let i = 0; i < 20; i++) log.info(`line ${i}`)
    await sluice.flush()
    await waitFor(() => sluice.stats.read().sink_background_errors >= 3)
    log.info('after the errors')
    await sluice.close()
    expect(workerError).toBeUndefined()
    expect(sluice.stats.read()).toMatchObject({ received: 21, written: 21, failed: 0 })
    expect(await appRowCount(sql, table)).toBe(21)
  })
})

describe('flush with a hung fan-out sink', () => {
  it('resolves within the sink\'s timeoutMs with every batch it was given counted', async () => {
    const h = await startTransport({ batch: { intervalMs: 10 }, sinks: [sink('stuck', { mode: 'hang' }, { timeoutMs: 2000, maxQueued: 10 })] })
    for (let i = 0; i < 5; i++) {
      h.logger.info(`line ${i}`)
      await waitFor(() => h.stats.read().written === i + 1)
    }
    const started = Date.now()
    await h.flush()
    // Five batches, each with its own 2 s timeout one after the other, took about 10 s before.
    expect(Date.now() - started).toBeLessThan(2000 + 1500)
    const stuck = h.stats.read().sinks.stuck as SinkStats
    expect(stuck.delivered + stuck.failed).toBe(5)
    expect(stuck.failed_timeout).toBe(5)
    await h.close()
    expect(await appRowCount(sql, h.table)).toBe(5)
  })
})

describe('time spent in a stage is the stage\'s', () => {
  it('a stage still writing when the exit budget ends: failed_stage naming it, never failed_db_unavailable', async () => {
    const h = await startTransport({ exit: { budgetMs: 1000 }, sinks: [sink('slow-stage', { mode: 'slow', ms: 4000 }, { role: 'stage', failClosed: false })] })
    for (let i = 0; i < 10; i++) h.logger.info(`line ${i}`)
    await waitFor(() => h.stats.read().received === 10)
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 10, written: 0, failed_db_unavailable: 0, failed_stage: 10 })
    expectBalanced(h.stats, expect)
    expect(h.stderr()).toContain('stage slow-stage: the exit budget ran out while the stage had them')
  })

  it('a stage whose start() outlasts the exit budget: its batches count against it, not the database', async () => {
    const h = await startTransport({ exit: { budgetMs: 800 }, sinks: [sink('slow-start', { startMs: 3000 }, { role: 'stage', failClosed: false })] })
    for (let i = 0; i < 10; i++) h.logger.info(`line ${i}`)
    await waitFor(() => h.stats.read().received === 10)
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 10, failed_db_unavailable: 0 })
    expect(s.failed_stage + s.written).toBe(10)
    expect(s.failed_stage).toBeGreaterThan(0)
    expectBalanced(h.stats, expect)
  })
})

describe('the runner owns the batch', () => {
  it('a stage that removes records from its array changes neither received nor written', async () => {
    const h = await startTransport({ sinks: [sink('remover', { mode: 'remove-half' }, { role: 'stage' })] })
    for (let i = 0; i < 10; i++) h.logger.info(`line ${i}`)
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 10, written: 10, dropped: 0, failed: 0 })
    expect(await appRowCount(sql, h.table)).toBe(10)
    expect(h.stderr()).toContain('sink remover: changed the number of records in its batch; the batch is stored whole')
  })

  it('a stage that adds a record: nothing more is written', async () => {
    const h = await startTransport({ sinks: [sink('adder', { mode: 'add' }, { role: 'stage' })] })
    for (let i = 0; i < 10; i++) h.logger.info(`line ${i}`)
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 10, written: 10, failed: 0 })
    expect(await appRowCount(sql, h.table)).toBe(10)
  })

  it('level and time a stage sets in value are what the store writes', async () => {
    const h = await startTransport({ sinks: [sink('leveller', { mode: 'level-time' }, { role: 'stage' })] })
    h.logger.info('raised')
    await h.close()
    const [row] = await sql`select level, time, data from ${sql(h.table)} where msg = 'raised'`
    expect(row?.level).toBe(50)
    expect((row?.time as Date).getTime()).toBe(0)
    expect(row?.data).not.toHaveProperty('level')
  })
})

describe('fail-closed stages', () => {
  it('a redacting stage that throws on every other batch: those records are not stored but failed_stage (the default)', async () => {
    const h = await startTransport({ sinks: [sink('redact', { mode: 'redact-flaky' }, { role: 'stage' })] })
    await logEach(h, 4, (i) => ({ email: `user${i}@example.com` }))
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 4, written: 2, failed_stage: 2, failed_db_unavailable: 0 })
    expectBalanced(h.stats, expect)
    expect(s.sinks.redact).toMatchObject({ delivered: 2, failed_error: 2 })
    const leaked = await sql`select count(*)::int as n from ${sql(h.table)} where data ? 'email'`
    expect(leaked[0]?.n).toBe(0)
    expect(h.stderr()).toContain('stage redact: failed on the batch (fail-closed); records not stored, counted as failed_stage')
  })

  it('a redacting stage that times out stores nothing it did not process', async () => {
    const h = await startTransport({ sinks: [sink('redact', { mode: 'hang' }, { role: 'stage', timeoutMs: 200 })] })
    await logEach(h, 3, (i) => ({ email: `user${i}@example.com` }))
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 3, written: 0, failed_stage: 3 })
    expect(await appRowCount(sql, h.table)).toBe(0)
  })

  it('failClosed: false lets a failed batch through as it is', async () => {
    const h = await startTransport({ sinks: [sink('redact', { mode: 'redact-flaky' }, { role: 'stage', failClosed: false })] })
    await logEach(h, 4, (i) => ({ email: `user${i}@example.com` }))
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 4, written: 4, failed: 0 })
  })

  it("a stage's rejected answer is honoured: the records it removed and rejected are not stored", async () => {
    const h = await startTransport({ sinks: [sink('gate', { mode: 'reject-bad' }, { role: 'stage', failClosed: false })] })
    for (let i = 0; i < 10; i++) h.logger.info({ bad: i % 3 === 0 }, `line ${i}`)
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 10, written: 6, failed_stage: 4 })
    const [row] = await sql`select count(*)::int as n from ${sql(h.table)} where (data->>'bad')::boolean`
    expect(row?.n).toBe(0)
  })
})

describe('queue limits', () => {
  it('maxQueued counts batches waiting, not the one being written', async () => {
    const h = await startTransport({ batch: { intervalMs: 10 }, sinks: [sink('stuck', { mode: 'hang' }, { maxQueued: 1, timeoutMs: 3000 })] })
    for (let i = 0; i < 4; i++) {
      h.logger.info(`line ${i}`)
      await waitFor(() => h.stats.read().written === i + 1)
    }
    await h.flush()
    // One being written, one waiting, two overflowed (before: all three later ones overflowed).
    const stuck = h.stats.read().sinks.stuck as SinkStats
    expect(stuck).toMatchObject({ delivered: 0, failed_overflow: 2 })
    expect(stuck.failed).toBe(4)
    expect(h.stderr()).toContain('sink stuck: 1 batch already waiting; failing new ones as overflow')
    await h.close()
  })

  it("start() does not take a batch's place", async () => {
    const h = await startTransport({ batch: { intervalMs: 10 }, sinks: [sink('late-start', { startMs: 500 }, { maxQueued: 1 })] })
    h.logger.info('while starting')
    await h.flush()
    expect(h.stats.read().sinks['late-start']).toMatchObject({ delivered: 1, failed: 0 })
    await h.close()
  })

  it('after start() passed its deadline, no write runs while it is still pending', async () => {
    const out = join(dir, 'pending-start.txt')
    const h = await startTransport({ sinks: [sink('pending', { start: 'hang', file: out }, { timeoutMs: 200 })] })
    await logEach(h, 2)
    await h.close()
    expect(h.stats.read().sinks.pending).toMatchObject({ delivered: 0, failed_unavailable: 2 })
    expect(existsSync(out)).toBe(false)
    expect(h.stderr()).toContain('sink pending: start() has not finished; batches fail as unavailable until it does')
  })
})

describe('start-up', () => {
  it('createSluice: a function in a sink\'s options names the option path', async () => {
    const { createSluice } = (await import(INDEX_URL)) as typeof import('../../src/index.js')
    expect(() => createSluice({ postgres: { url: databaseUrl() }, sinks: [{ target: CONTRACT_SINK, options: { filter: ((r: { level: number }) => r.level > 30) as never } }] })).toThrow(
      /options\.sinks\[0\]\.options\.filter is a function, which cannot be sent to pino-sluice's worker thread/,
    )
  })

  it('createSluice: a missing absolute-path target throws at once', async () => {
    const { createSluice } = (await import(INDEX_URL)) as typeof import('../../src/index.js')
    const missing = join(dir, 'missing-sink.mjs')
    expect(() => createSluice({ postgres: { url: databaseUrl() }, sinks: [{ target: missing }] })).toThrow(`options.sinks[0] (target ${JSON.stringify(missing)}): there is no file at ${missing}`)
  })

  it('createSluice: a start-up error names the target as written, not the file it resolved to', async () => {
    const { createSluice } = (await import(INDEX_URL)) as typeof import('../../src/index.js')
    const sluice = createSluice({ postgres: { url: databaseUrl() }, sinks: [{ target: '../fixtures/sinks/no-factory.mjs' }] })
    const [error] = (await once(sluice.transport, 'error')) as [Error]
    expect(error.message).toContain('options.sinks[0] (target "../fixtures/sinks/no-factory.mjs"): ')
    await sluice.close()
  })

  it('a custom store whose start() rejects fails at start, like the built-in ones', async () => {
    await expect(startTransport({ postgres: false, sinks: [sink('archive', { start: 'reject' }, { role: 'store' })] })).rejects.toThrow(
      /options\.sinks\[0\] \(target ".*contract-sink\.mjs"\), the store of record: its start\(\) failed: cannot reach the archive/,
    )
  })

  it('a custom store whose close() hangs says it timed out', async () => {
    const h = await startTransport({ postgres: false, exit: { budgetMs: 600 }, sinks: [sink('archive', { close: 'hang' }, { role: 'store' })] })
    h.logger.info('one')
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 1, written: 1 })
    expect(h.stderr()).toMatch(/(sink|store) archive: close timed out/)
  })

  it('a factory error keeps every line; a TypeScript target is told to compile', async () => {
    await expect(startTransport({ sinks: [{ target: join(FIXTURES, 'multiline-factory.mjs') }] })).rejects.toThrow(/options\.url is required\nfirst: set url\nthen: restart/)
    await expect(startTransport({ sinks: [{ target: join(FIXTURES, 'typescript-sink.ts') }] })).rejects.toThrow(/compile the sink to \.js/)
  })

  it('more than 16 sinks: said at start', async () => {
    const sinks = Array.from({ length: 17 }, (_, i) => sink(`s${i}`, {}))
    const h = await startTransport({ sinks })
    h.logger.info('one')
    await h.close()
    expect(h.stderr()).toMatch(/18 sinks configured; createStats\(\)\.read\(\) shows the first 16/)
  })
})
