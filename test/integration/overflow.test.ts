import { afterAll, describe, expect, it } from 'vitest'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

describe.each(['drop-newest', 'drop-oldest'] as const)('overflow with %s', (overflow) => {
  it('drops and counts exactly while the database is held by a lock', async () => {
    const h = await startTransport({ channel: { maxRecords: 50, overflow }, batch: { maxRecords: 10, intervalMs: 50 } })
    h.logger.info({ i: -1 }, 'create the table')
    await h.flush()

    // A transaction holding an exclusive lock makes every COPY wait: the database is "slow".
    const locker = await sql.reserve()
    await locker`begin`
    await locker`lock table ${sql(h.table)} in access exclusive mode`
    const emitted = 2000
    for (let i = 0; i < emitted; i++) h.logger.info({ i }, 'burst')
    await expect.poll(() => h.stats.read().received, { timeout: 10_000 }).toBe(emitted + 1)
    const during = h.stats.read()
    expect(during.queuedRecords).toBeLessThanOrEqual(50)
    expect(during.droppedBy.overflow).toBeGreaterThan(0)
    await locker`commit`
    locker.release()

    await h.close()
    const s = h.stats.read()
    expect(s.received).toBe(emitted + 1)
    expect(s.written + s.droppedBy.overflow).toBe(emitted + 1)
    expect(s.failed).toBe(0)
    expect(await appRowCount(sql, h.table)).toBe(s.written)
    const kept = new Set((await sql`select (data->>'i')::int as i from ${sql(h.table)} where data ? 'i'`).map((r) => r.i as number))
    if (overflow === 'drop-newest') {
      expect(kept.has(0)).toBe(true)
      expect(kept.has(emitted - 1)).toBe(false)
    } else {
      // The newest lines survive; the ones evicted were the oldest queued.
      for (let i = emitted - 40; i < emitted; i++) expect(kept.has(i)).toBe(true)
    }
    const [notice] = await sql`select msg, data from ${sql(h.table)} where data ? 'pino_sluice' order by seq limit 1`
    expect(notice?.msg).toMatch(/^pino-sluice dropped \d+ records/)
    expectBalanced(h.stats, expect)
  })
})
