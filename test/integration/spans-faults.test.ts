/**
 * Spans through a Postgres crash, against a server of this file's own: retries
 * check both tables, so no span or log is duplicated and the counts are exact.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import { startTransport, uniqueTable } from '../support/transport.js'
import { crashPostgresDuring } from '../support/crash-postgres.js'
import { useOwnPostgres } from '../support/own-postgres.js'

const db = useOwnPostgres()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('spans and database faults', () => {
  it('survives a SIGKILL of Postgres mid-burst of spans and logs: nothing duplicated, every record counted', async () => {
    const h = await startTransport({
      batch: { maxRecords: 100, intervalMs: 20 },
      postgres: { url: db.server.url, table: uniqueTable('spfault'), synchronousCommit: 'on', retry: { initialDelayMs: 20, maxDelayMs: 200, budgetMs: 20_000 } },
    })
    const logger = pino({ mixin: sluiceMixin }, h.transport)
    const tracer = createTracer(logger)
    logger.info('create the tables')
    await h.flush()
    let emitted = 1
    await crashPostgresDuring(db.server, async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          tracer.span('job', async (span) => {
            logger.info({ i }, 'step')
            span.recordUsage({ model: 'm', inputTokens: i, outputTokens: 1 })
          }),
        ),
      )
      emitted += 40
      await sleep(2)
    })
    await h.close()

    const s = h.stats.read()
    const [logs] = await db.sql`select count(*)::int as n from ${db.sql(h.table)} where not (data ? 'pino_sluice')`
    const [spans] = await db.sql`select count(*)::int as n from ${db.sql(`${h.table}_spans`)}`
    const [dupes] = await db.sql`select count(*)::int as n from (
        select writer_id, seq from ${db.sql(h.table)} union all select writer_id, seq from ${db.sql(`${h.table}_spans`)}
      ) r group by writer_id, seq having count(*) > 1`.then((rows) => [{ n: rows.length }])
    expect(s.received).toBe(emitted)
    expect(s.received).toBe(s.written + s.dropped + s.failed)
    expect((logs?.n ?? 0) + (spans?.n ?? 0)).toBe(s.written)
    expect(s.spans).toBe(spans?.n)
    expect(s.retries).toBeGreaterThan(0)
    expect(dupes?.n).toBe(0)
  })
})
