/**
 * createSluice end to end: the app thread's ring, the worker it starts and a
 * real Postgres. What a user sees: rows, counters that add up, and an app
 * thread that never waits.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
// The built package: createSluice starts dist/src/transport/ring-worker.js, which only exists there.
import { OptionsError, createSluice, createTracer, sluiceMixin, type Sluice } from '../../dist/src/index.js'
import { localS3Options, s3Endpoint, uniquePrefix } from '../support/s3.js'
import { appRowCount, databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'

const execFileAsync = promisify(execFile)
const sql = sqlClient()
afterAll(() => sql.end())

type Options = Parameters<typeof createSluice>[0]

async function start(options: Options = {}, table = uniqueTable('ring')): Promise<{ sluice: Sluice; table: string; log: pino.Logger }> {
  const sluice = createSluice({ ...options, postgres: { url: databaseUrl(), table, ...options?.postgres }, exit: { report: false, ...options?.exit } })
  await new Promise((resolve) => sluice.transport.once('ready', resolve))
  return { sluice, table, log: pino(sluice.transport) }
}

function balanced(sluice: Sluice): void {
  const s = sluice.stats.read()
  expect(s.received).toBe(s.written + s.dropped + s.failed)
}

describe('createSluice: the ring from the app thread', () => {
  it('flush() resolves once everything logged so far is in the table', async () => {
    const { sluice, table, log } = await start()
    for (let i = 0; i < 3000; i++) log.info({ i }, 'hello')
    await sluice.flush()
    expect(await appRowCount(sql, table)).toBe(3000)
    expect(sluice.stats.read()).toMatchObject({ received: 3000, written: 3000, dropped: 0, failed: 0 })
    await sluice.close()
  })

  it('drops and counts on the app thread when a burst overflows the ring, and every record is accounted for', async () => {
    // A small ring and channel: a 20k tight loop cannot fit, the app must not wait.
    const { sluice, table, log } = await start({ ring: { bytes: 64 * 1024 }, channel: { maxRecords: 500 } })
    for (let i = 0; i < 20_000; i++) log.info({ i, pad: 'x'.repeat(100) }, 'burst')
    await sluice.close()
    const s = sluice.stats.read()
    expect(s.received).toBe(20_000)
    expect(s.dropped_overflow).toBeGreaterThan(0)
    expect(s.written).toBeGreaterThan(0)
    balanced(sluice)
    expect(await appRowCount(sql, table)).toBe(s.written)
  })

  it('keeps emoji, CJK, lone surrogates and lines that wrap the ring end intact in Postgres', async () => {
    const { sluice, table, log } = await start({ ring: { bytes: 64 * 1024 } })
    const texts = ['🎉 party', '日本語のログ', 'broken \ud800 surrogate', `${'長'.repeat(3000)}`]
    // Enough rounds that lines land across the ring's end many times.
    for (let round = 0; round < 40; round++) {
      for (const text of texts) log.info({ round }, text)
      await sluice.flush()
    }
    const rows = await sql`select msg, count(*)::int as n from ${sql(table)} group by msg order by msg`
    expect(new Map(rows.map((row) => [row.msg, row.n]))).toEqual(
      new Map([
        ['🎉 party', 40],
        ['日本語のログ', 40],
        ['broken \ufffd surrogate', 40],
        ['長'.repeat(3000), 40],
      ]),
    )
    await sluice.close()
  })

  it('counts a line above channel.maxRecordBytes as too_large where it was logged', async () => {
    const { sluice, table, log } = await start({ channel: { maxRecordBytes: 1024 } })
    log.info('small')
    log.info({ big: '😀'.repeat(300) }, 'over 1 KiB in UTF-8, under it in characters')
    log.info('small again')
    await sluice.close()
    expect(sluice.stats.read()).toMatchObject({ received: 3, written: 2, dropped: 1, dropped_too_large: 1 })
    expect(await appRowCount(sql, table)).toBe(2)
  })

  it.skipIf(!s3Endpoint)('hands a line bigger than the ring to the worker another way, and S3 offloads it', async () => {
    const { sluice, table, log } = await start({ ring: { bytes: 64 * 1024 }, s3: localS3Options({ prefix: uniquePrefix() }) })
    const blob = 'a long model answer '.repeat(50_000)
    log.info('before')
    log.info({ blob }, 'one megabyte')
    log.info('after')
    await sluice.close()
    expect(sluice.stats.read()).toMatchObject({ received: 3, written: 3, dropped: 0, offloaded: 1 })
    const [row] = await sql`select data from ${sql(table)} where msg = 'one megabyte'`
    expect((row?.data as { blob: { $ref: string; bytes: number } }).blob.bytes).toBe(blob.length + 2)
  })

  it('works through child loggers, pino.multistream, the tracer and sluiceMixin', async () => {
    const { sluice, table } = await start()
    const copies: string[] = []
    const log = pino({ mixin: sluiceMixin }, pino.multistream([{ stream: sluice.transport }, { stream: { write: (line: string) => copies.push(line) } }]))
    const tracer = createTracer(log)
    await tracer.span('handle request', async (span) => {
      log.child({ component: 'db' }).info('query done')
      span.setAttributes({ rows: 3 })
    })
    await sluice.flush()
    const [row] = await sql`select trace_id, data->>'component' as component from ${sql(table)} where msg = 'query done'`
    expect(row?.component).toBe('db')
    const [span] = await sql`select name, trace_id from ${sql(`${table}_spans`)}`
    expect(span?.name).toBe('handle request')
    expect(row?.trace_id).toBe(span?.trace_id)
    expect(copies.length).toBe(2)
    await sluice.close()
  })

  it('close() returns at once and lets the event loop run while the worker drains an unreachable database', async () => {
    const sluice = createSluice({
      postgres: { url: 'postgres://nobody:x@127.0.0.1:9/none', table: uniqueTable('ring') },
      exit: { budgetMs: 1500, report: false },
    })
    await new Promise((resolve) => sluice.transport.once('ready', resolve))
    const log = pino(sluice.transport)
    for (let i = 0; i < 100; i++) log.info({ i }, 'nowhere to go')
    let ticks = 0
    const ticker = setInterval(() => ticks++, 10)
    const closing = sluice.close()
    // Nothing is settled yet when close() returns: it did not wait for the worker, which gives up
    // on the database only near the end of the 1.5 s budget.
    expect(sluice.stats.read()).toMatchObject({ received: 100, written: 0, failed: 0 })
    await closing
    clearInterval(ticker)
    expect(ticks).toBeGreaterThan(10)
    expect(sluice.stats.read()).toMatchObject({ received: 100, written: 0, failed: 100, failed_db_unavailable: 100 })
  })

  it('after the worker is gone, flush() rejects, new lines are counted dropped (closed) and the counters stay readable', async () => {
    const { sluice, log } = await start()
    log.info('before')
    await sluice.flush()
    await (sluice.transport as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate()
    log.info('after')
    await expect(sluice.flush()).rejects.toThrow(/worker has stopped/)
    expect(sluice.stats.read()).toMatchObject({ received: 2, written: 1, dropped_closed: 1 })
  })

  it('does not burn a core while the app logs nothing', async () => {
    const { sluice, log } = await start()
    log.info('one line, then quiet')
    await sluice.flush()
    const before = process.cpuUsage()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const used = process.cpuUsage(before)
    // Both threads of this process over 2 s: a spinning worker would use ~2,000,000 µs.
    expect(used.user + used.system).toBeLessThan(300_000)
    await sluice.close()
  })

  it.each([[['--input-type=module', '-e']], [['--expose-gc', '--input-type=module', '-e']]])(
    'starts its worker whatever node flags the app runs with (%j)',
    async (flags) => {
      const table = uniqueTable('ring')
      const code = `import pino from 'pino'
import { createSluice } from ${JSON.stringify(new URL('../../dist/src/index.js', import.meta.url).href)}
const sluice = createSluice({ postgres: { url: process.env.DATABASE_URL, table: ${JSON.stringify(table)} } })
pino(sluice.transport).info('from node -e')
await sluice.close()
console.log(sluice.stats.read().written)`
      const { stdout } = await execFileAsync(process.execPath, [...flags, code], { env: { ...process.env, DATABASE_URL: databaseUrl() }, cwd: fileURLToPath(new URL('../..', import.meta.url)) })
      expect(stdout.trim()).toBe('1')
      expect(await appRowCount(sql, table)).toBe(1)
    },
  )

  describe('the doorbell: one per turn, and nothing left behind when it is still pending', () => {
    type Activity = { doorbells: number; workerWakes: number; unreadBytes: number }
    const activity = (sluice: Sluice): Activity => (sluice.transport as unknown as { ringActivity(): Activity }).ringActivity()

    /** Resolves once the worker has taken everything from the ring, by itself (no flush); false if it never did within `boundMs`. */
    async function takenWithoutFlush(sluice: Sluice, boundMs = 10_000): Promise<boolean> {
      for (const until = Date.now() + boundMs; Date.now() < until; ) {
        if (activity(sluice).unreadBytes === 0) return true
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      return false
    }

    it('flush() in the same turn as the lines, before any doorbell rang, still sees them all', async () => {
      const { sluice, table, log } = await start()
      await sluice.flush()
      for (let i = 0; i < 5; i++) log.info({ i }, 'just before flush')
      await sluice.flush()
      expect(await appRowCount(sql, table)).toBe(5)
      expect(sluice.stats.read()).toMatchObject({ received: 5, written: 5, dropped: 0, failed: 0 })
      await sluice.close()
    })

    it('close() in the same turn as the lines, before any doorbell rang, writes them all', async () => {
      const { sluice, table, log } = await start()
      for (let i = 0; i < 5; i++) log.info({ i }, 'just before close')
      await sluice.close()
      expect(await appRowCount(sql, table)).toBe(5)
      expect(sluice.stats.read()).toMatchObject({ received: 5, written: 5, dropped: 0, failed: 0 })
    })

    it('a sleeping worker is woken once for a turn of lines and takes them all without a flush', async () => {
      const { sluice, table, log } = await start()
      let lines = 0
      for (let turn = 0; turn < 5; turn++) {
        // Let the worker run dry and go back to sleep, as it does between requests.
        await new Promise((resolve) => setTimeout(resolve, 50))
        const before = activity(sluice)
        for (let i = 0; i < 20; i++) log.info({ turn, i }, 'a turn of requests')
        lines += 20
        expect(await takenWithoutFlush(sluice)).toBe(true)
        expect(activity(sluice).doorbells - before.doorbells).toBeLessThanOrEqual(1)
      }
      await sluice.flush()
      expect(await appRowCount(sql, table)).toBe(lines)
      balanced(sluice)
      await sluice.close()
    })
  })

  it('validates ring.bytes at createSluice(), on the app thread', () => {
    const postgres = { url: databaseUrl() }
    expect(() => createSluice({ postgres, ring: { bytes: 1000 } })).toThrow(OptionsError)
    expect(() => createSluice({ postgres, ring: { bytes: 1000 } })).toThrow(/options\.ring\.bytes/)
    expect(() => createSluice({ postgres, ring: { size: 1 } } as never)).toThrow(/"size"/)
  })
})
