import { afterAll, describe, expect, it } from 'vitest'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

describe('pino → pino-sluice → Postgres', () => {
  it('writes records with their columns and keeps every other field in data', async () => {
    const h = await startTransport()
    h.logger.info({ user: 42, nested: { deep: [1, { x: 'y' }] }, trace_id: 'abc', span_id: 'def' }, 'hello')
    h.logger.warn('second')
    await h.flush()
    const rows = await sql`select * from ${sql(h.table)} order by seq`
    expect(rows).toHaveLength(2)
    const [first, second] = rows
    expect(first).toMatchObject({ level: 30, msg: 'hello', pid: process.pid, trace_id: 'abc', span_id: 'def' })
    expect(first?.hostname).toBeTypeOf('string')
    expect(first?.time).toBeInstanceOf(Date)
    expect(first?.data).toEqual({ user: 42, nested: { deep: [1, { x: 'y' }] } })
    expect(second).toMatchObject({ level: 40, msg: 'second' })
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 2, written: 2, dropped: 0, failed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('creates its tables, indexes and migration record on a fresh database', async () => {
    const h = await startTransport()
    h.logger.info('x')
    await h.flush()
    const indexes = await sql`select indexname from pg_indexes where tablename = ${h.table} order by 1`
    // No unique (writer_id, seq, time) index: the commit ledger is the retry check (commit-ledger.test.ts).
    expect(indexes.map((r) => r.indexname)).toEqual([`${h.table}_time`, `${h.table}_trace`])
    const migrations = await sql`select component, version from pino_sluice_migrations where target = ${h.table}`
    expect(migrations.map((m) => `${m.component}@${m.version}`)).toEqual(expect.arrayContaining(['logs@1', 'logs@2']))
    const [ledger] = await sql`select records from ${sql(`${h.table}_ledger`)}`
    expect(ledger?.records).toBe(1)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('flush(cb) resolves only once everything logged before it is committed', async () => {
    const h = await startTransport({ batch: { intervalMs: 60_000, maxRecords: 100_000 } })
    for (let i = 0; i < 500; i++) h.logger.info({ i }, 'row')
    await h.flush()
    expect(await appRowCount(sql, h.table)).toBe(500)
    expect(h.stats.read().written).toBe(500)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('close drains what is queued and commits it', async () => {
    const h = await startTransport({ batch: { intervalMs: 60_000, maxRecords: 100_000 } })
    for (let i = 0; i < 3000; i++) h.logger.info({ i }, 'row')
    await h.close()
    expect(await appRowCount(sql, h.table)).toBe(3000)
    expect(h.stats.read()).toMatchObject({ received: 3000, written: 3000, queuedRecords: 0 })
    expectBalanced(h.stats, expect)
  })

  it('flushes at once when an error-level record arrives', async () => {
    const h = await startTransport({ batch: { intervalMs: 60_000, maxRecords: 100_000 } })
    h.logger.info('before')
    h.logger.error('boom')
    await expect.poll(() => appRowCount(sql, h.table), { timeout: 5000 }).toBe(2)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('flushes on the interval when nothing else triggers it', async () => {
    const h = await startTransport({ batch: { intervalMs: 200, maxRecords: 100_000 } })
    h.logger.info('lonely')
    await expect.poll(() => appRowCount(sql, h.table), { timeout: 5000 }).toBe(1)
    await h.close()
    expectBalanced(h.stats, expect)
  })
})
