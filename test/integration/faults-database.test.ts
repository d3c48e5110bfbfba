/**
 * Database faults against a Postgres of this file's own, so it can be
 * stopped, SIGKILLed and restarted without disturbing other test files.
 */
import { describe, expect, it } from 'vitest'
import { crashPostgresDuring } from '../support/crash-postgres.js'
import { useOwnPostgres } from '../support/own-postgres.js'
import { appRowCount, expectBalanced, startTransport, uniqueTable, type HarnessOptions } from '../support/transport.js'

const db = useOwnPostgres()

const fastRetry = { initialDelayMs: 20, maxDelayMs: 200, budgetMs: 20_000 }
const start = (options: HarnessOptions = {}) =>
  startTransport({ ...options, postgres: { url: db.server.url, table: uniqueTable('fault'), retry: fastRetry, ...options.postgres } })

async function noDuplicates(table: string): Promise<void> {
  const [row] = await db.sql`select count(*)::int as n, count(distinct (writer_id, seq))::int as d from ${db.sql(table)}`
  expect(row?.n).toBe(row?.d)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('database faults', () => {
  it('keeps accepting while the database is stopped and writes everything once it is back', async () => {
    const h = await start()
    for (let i = 0; i < 100; i++) h.logger.info({ i }, 'before')
    await h.flush()
    await db.server.pause()
    for (let i = 0; i < 200; i++) h.logger.info({ i }, 'while down')
    await expect.poll(() => h.stats.read().retries, { timeout: 5000 }).toBeGreaterThan(0)
    await db.server.restart()
    await db.sql`select 1`
    await h.flush()
    expect(await appRowCount(db.sql, h.table)).toBe(300)
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 300, written: 300, dropped: 0, failed: 0 })
    await noDuplicates(h.table)
    expectBalanced(h.stats, expect)
  })

  it('survives a SIGKILL of Postgres mid-burst: every record is written or counted, none duplicated', async () => {
    // With synchronous_commit on, a commit Postgres acknowledged survives its crash, so the count is exact.
    const h = await start({ batch: { maxRecords: 200, intervalMs: 20 }, postgres: { synchronousCommit: 'on' } })
    h.logger.info('create the table')
    await h.flush()
    let emitted = 1
    await crashPostgresDuring(db.server, async () => {
      for (let i = 0; i < 50; i++) h.logger.info({ n: emitted++ }, 'burst')
      await sleep(2)
    })
    await h.close()
    const s = h.stats.read()
    expect(s.received).toBe(emitted)
    expect(s.received).toBe(s.written + s.dropped + s.failed)
    expect(await appRowCount(db.sql, h.table)).toBe(s.written)
    expect(s.retries).toBeGreaterThan(0)
    await noDuplicates(h.table)
  })

  it('with synchronous_commit off, a Postgres crash can only lose acknowledged rows, never duplicate them', async () => {
    const h = await start({ batch: { maxRecords: 200, intervalMs: 20 } })
    for (let i = 0; i < 2000; i++) h.logger.info({ i }, 'before the crash')
    await h.flush()
    await db.server.kill()
    await db.server.restart()
    for (let i = 0; i < 500; i++) h.logger.info({ i }, 'after the crash')
    await h.close()
    const s = h.stats.read()
    expect(s.received).toBe(2500)
    expect(s.received).toBe(s.written + s.dropped + s.failed)
    const rows = await appRowCount(db.sql, h.table)
    expect(rows).toBeLessThanOrEqual(s.written)
    await noDuplicates(h.table)
  })

  it('starts while the database is unreachable (connection refused) and catches up when it appears', async () => {
    await db.server.pause()
    const h = await start()
    for (let i = 0; i < 50; i++) h.logger.info({ i }, 'early')
    await sleep(700)
    expect(h.stats.read()).toMatchObject({ received: 50, written: 0 })
    await db.server.restart()
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 50, written: 50, failed: 0 })
    expect(await appRowCount(db.sql, h.table)).toBe(50)
    expectBalanced(h.stats, expect)
  })

  it('counts records as failed db_unavailable when the database stays away past the retry budget, then resumes', async () => {
    const h = await start({ postgres: { retry: { initialDelayMs: 20, maxDelayMs: 50, budgetMs: 300 } } })
    h.logger.info('first')
    await h.flush()
    await db.server.pause()
    for (let i = 0; i < 20; i++) h.logger.info({ i }, 'lost')
    await h.flush()
    expect(h.stats.read().failedBy.db_unavailable).toBe(20)
    await db.server.restart()
    h.logger.info('after')
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 22, written: 2, failedBy: { db_unavailable: 20 } })
    expectBalanced(h.stats, expect)
  })

  it('counts disk-full style errors and keeps the pipeline alive', async () => {
    const h = await start({ postgres: { retry: { initialDelayMs: 20, maxDelayMs: 50, budgetMs: 300 } } })
    h.logger.info('create the table')
    await h.flush()
    await db.sql.unsafe(`
      create function ${h.table}_full() returns trigger language plpgsql as $$
      begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$;
      create trigger ${h.table}_full before insert on ${h.table} for each row execute function ${h.table}_full();`)
    for (let i = 0; i < 30; i++) h.logger.info({ i }, 'disk is full')
    await h.flush()
    await db.sql.unsafe(`drop trigger ${h.table}_full on ${h.table}`)
    h.logger.info('space freed')
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 32, written: 2, failedBy: { db_unavailable: 30, db_rejected: 0 } })
    expectBalanced(h.stats, expect)
  })

  it('drops and counts when the database is slow, without the channel growing past its bounds', async () => {
    const h = await start({ channel: { maxRecords: 100 }, batch: { maxRecords: 50, intervalMs: 10 } })
    h.logger.info('create the table')
    await h.flush()
    await db.sql.unsafe(`
      create function ${h.table}_slow() returns trigger language plpgsql as $$
      begin perform pg_sleep(0.2); return null; end $$;
      create trigger ${h.table}_slow before insert on ${h.table} for each statement execute function ${h.table}_slow();`)
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 500; i++) h.logger.info({ round, i }, 'while slow')
      await sleep(20)
      expect(h.stats.read().queuedRecords).toBeLessThanOrEqual(100)
    }
    await h.close()
    const s = h.stats.read()
    expect(s.received).toBe(5001)
    expect(s.droppedBy.overflow).toBeGreaterThan(0)
    expect(await appRowCount(db.sql, h.table)).toBe(s.written)
    expectBalanced(h.stats, expect)
  })
})
