/**
 * Time partitions: created at boundaries and on demand, stray timestamps in
 * the DEFAULT partition (and moved out when their partition is made), many
 * keepers at once, an existing plain table left alone, and the partitioned
 * parents keeping exactly the plain tables' columns.
 */
import { signedSpan } from '../support/signed-span.js'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import type { Sql } from '../../sinks/postgres/connect.js'
import { migrate } from '../../sinks/postgres/migrations.js'
import { listPartitions } from '../../sinks/postgres/partition-catalog.js'
import { PartitionKeeper } from '../../sinks/postgres/partitions.js'
import { postgresMigrations } from '../../sinks/postgres/postgres-sink.js'
import { tableNames } from '../../sinks/postgres/table-names.js'
import { appRowCount, expectBalanced, sqlClient, startTransport, uniqueTable } from '../support/transport.js'

const sql = sqlClient()
const db = sql as unknown as Sql
afterAll(() => sql.end())

const DAY = 86_400_000
const HOUR = 3_600_000

async function partitionedTable(partition: 'day' | 'hour' | false = 'day'): Promise<string> {
  const table = uniqueTable('part')
  await migrate(db, tableNames('public', table), postgresMigrations({ partition }))
  return table
}

/** The partition each app row landed in, by its msg. */
async function placement(table: string): Promise<Record<string, string>> {
  const rows = await sql`select msg, tableoid::regclass::text as part from ${sql(table)} where not (data ? 'pino_sluice')`
  return Object.fromEntries(rows.map((r) => [r.msg as string, r.part as string]))
}

function dayName(table: string, ms: number): string {
  return `${table}_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`
}

describe('time partitions', () => {
  it('stores records around midnight UTC, with skewed clocks and dated far away, without failing a batch', async () => {
    const h = await startTransport({ postgres: { partition: 'day' }, batch: { intervalMs: 60_000, maxRecords: 100_000 } })
    let time = 0
    const logger = pino({ timestamp: () => `,"time":${time}` }, h.transport)
    const midnight = Math.floor(Date.now() / DAY) * DAY
    const cases: Record<string, number> = {
      'yesterday 23:59:59.999': midnight - 1,
      'today 00:00:00.000': midnight,
      'tomorrow 00:00:00.000': midnight + DAY,
      'clock 5 days behind': Date.now() - 5 * DAY,
      'clock 3 days ahead': Date.now() + 3 * DAY,
      'year 1971': Date.UTC(1971, 0, 1),
      'year 2999': Date.UTC(2999, 0, 1),
    }
    for (const [msg, t] of Object.entries(cases)) {
      time = t
      logger.info(msg)
    }
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 7, written: 7, dropped: 0, failed: 0 })
    expectBalanced(h.stats, expect)
    const where = await placement(h.table)
    expect(where['yesterday 23:59:59.999']).toBe(dayName(h.table, midnight - DAY))
    expect(where['today 00:00:00.000']).toBe(dayName(h.table, midnight))
    expect(where['tomorrow 00:00:00.000']).toBe(dayName(h.table, midnight + DAY))
    expect(where['clock 5 days behind']).toBe(dayName(h.table, Date.now() - 5 * DAY))
    // Outside the window (7 days back without retention, 1 day ahead): the DEFAULT partition, not a partition per stray record.
    expect(where['clock 3 days ahead']).toBe(`${h.table}_pdefault`)
    expect(where['year 1971']).toBe(`${h.table}_pdefault`)
    expect(where['year 2999']).toBe(`${h.table}_pdefault`)
    const rows = await sql`select time from ${sql(h.table)} where msg = 'yesterday 23:59:59.999'`
    expect((rows[0]?.time as Date).getTime()).toBe(midnight - 1)
  })

  it('writes the batch into DEFAULT when a long query keeps the partition from being created in time', async () => {
    const h = await startTransport({ postgres: { partition: 'day' }, batch: { intervalMs: 60_000, maxRecords: 100_000 } })
    h.logger.info('warm-up')
    await h.flush()
    let time = Date.now() - 3 * DAY
    const logger = pino({ timestamp: () => `,"time":${time}` }, h.transport)
    // A reader holding the parent (a long report query) blocks CREATE TABLE ... PARTITION OF.
    const reader = sqlClient()
    let release: (() => void) | undefined
    const holding = reader.begin(async (tx) => {
      await tx`select count(*) from ${tx(h.table)}`
      await new Promise<void>((resolve) => (release = resolve))
    })
    await expect.poll(() => release !== undefined).toBe(true)
    logger.info('three days ago')
    await h.flush()
    release?.()
    await holding
    await reader.end()
    time = Date.now()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 2, written: 2, failed: 0 })
    expectBalanced(h.stats, expect)
    expect((await placement(h.table))['three days ago']).toBe(`${h.table}_pdefault`)
    expect(h.stderr()).toContain('cannot create a logs partition')
  })

  it('creates hourly partitions for the current and next hour at start', async () => {
    const h = await startTransport({ postgres: { partition: 'hour' } })
    h.logger.info('x')
    await h.flush()
    await h.close()
    expectBalanced(h.stats, expect)
    const hour = Math.floor(Date.now() / HOUR) * HOUR
    const names = (await listPartitions(db, 'public', h.table)).map((p) => p.name)
    const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '')
    expect(names).toContain(`${h.table}_p${stamp(hour)}`)
    // Near the top of the hour the next one may be the one after; either way one ahead exists.
    expect(names.some((n) => n === `${h.table}_p${stamp(hour + HOUR)}` || n === `${h.table}_p${stamp(hour + 2 * HOUR)}`)).toBe(true)
    expect(await appRowCount(sql, h.table)).toBe(1)
  })

  it('moves rows out of the DEFAULT partition when their period gets a partition (Postgres refuses the overlap otherwise)', async () => {
    const table = await partitionedTable('day')
    const later = Date.now() + 3 * DAY
    await sql`insert into ${sql(table)} (time, level, msg, writer_id, seq) values (${new Date(later)}, 30, 'early bird', 'w', 1), (${new Date(later + 1000)}, 30, 'early bird 2', 'w', 2)`
    expect(await placement(table)).toMatchObject({ 'early bird': `${table}_pdefault` })
    // Three days later the writer's clock reaches that day.
    const keeper = new PartitionKeeper(db, 'public', table, 'time', 7 * DAY)
    expect(await keeper.ensure([later], later)).toBe(1)
    const where = await placement(table)
    expect(where['early bird']).toBe(dayName(table, later))
    expect(where['early bird 2']).toBe(dayName(table, later))
    const [count] = await sql`select count(*)::int as n from ${sql(table)}`
    expect(count?.n).toBe(2)
  })

  it('lets many keepers create the same partitions at once: each partition made once, nobody fails', async () => {
    const table = await partitionedTable('hour')
    const now = Date.now()
    const times = Array.from({ length: 6 }, (_, i) => now - i * HOUR)
    const clients = Array.from({ length: 4 }, () => sqlClient())
    try {
      // Each finds some or all of them missing, depending on when it looked; none fails.
      await Promise.all(clients.map((c) => new PartitionKeeper(c as unknown as Sql, 'public', table, 'time', DAY).ensure(times, now)))
      const partitions = (await listPartitions(db, 'public', table)).filter((p) => !p.isDefault)
      expect(partitions).toHaveLength(6)
    } finally {
      await Promise.all(clients.map((c) => c.end()))
    }
  })

  it('stores spans across midnight and dated far away in the spans partitions or DEFAULT', async () => {
    // A real span line from the tracer, re-dated.
    const lines: string[] = []
    const capture = pino({ mixin: sluiceMixin }, { write: (line: string) => void lines.push(line) })
    await createTracer(capture).span('job', async () => {})
    const span = JSON.parse(lines.find((l) => l.includes('"span_id"') && l.includes('"duration_ms"')) ?? '{}') as Record<string, unknown>
    expect(span.name).toBe('job')
    const midnight = Math.floor(Date.now() / DAY) * DAY
    // Re-dated fields need a new proof (sinks/shared/record-proof.ts), as the tracer would give them.
    const { sluice_proof: _, ...fields } = span
    const dated = (start: number): string => `${JSON.stringify(signedSpan({ ...fields, start_time: start, end_time: start + 1, duration_ms: 1 }))}\n`
    const h = await startTransport({ postgres: { partition: 'day' } })
    h.transport.write(dated(midnight - 1) + dated(midnight) + dated(Date.UTC(2999, 0, 1)))
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 3, written: 3, failed: 0, spans: 3 })
    expectBalanced(h.stats, expect)
    const spans = `${h.table}_spans`
    const rows = await sql`select tableoid::regclass::text as part from ${sql(spans)} order by start_time`
    expect(rows.map((r) => r.part)).toEqual([dayName(spans, midnight - DAY), dayName(spans, midnight), `${spans}_pdefault`])
  })

  it('partitions spans by start_time the same way', async () => {
    const table = await partitionedTable('day')
    const spans = `${table}_spans`
    const keeper = new PartitionKeeper(db, 'public', spans, 'start_time', 7 * DAY)
    const midnight = Math.floor(Date.now() / DAY) * DAY
    await keeper.ensure([midnight - 1, midnight])
    const names = (await listPartitions(db, 'public', spans)).map((p) => p.name)
    expect(names).toEqual(expect.arrayContaining([`${spans}_pdefault`, dayName(spans, midnight - DAY), dayName(spans, midnight)]))
    const [unique] = await sql`select indexdef from pg_indexes where indexname = ${`${spans}_wseq`}`
    expect(unique?.indexdef).toContain('(writer_id, seq, start_time, trace_id)')
  })

  it('leaves an existing plain table as it is, says so once, and still writes', async () => {
    const table = await partitionedTable(false)
    const h = await startTransport({ postgres: { partition: 'day' } }, table)
    h.logger.info('into the plain table')
    await h.flush()
    await h.close()
    expect(h.stats.read()).toMatchObject({ written: 1, failed: 0 })
    expectBalanced(h.stats, expect)
    const [kind] = await sql`select relkind from pg_class where relname = ${table}`
    expect(kind?.relkind).toBe('r')
    expect(h.stderr()).toContain('is a plain table')
  })

  it('gives the partitioned parents exactly the columns of the plain tables', async () => {
    const plain = await partitionedTable(false)
    const parted = await partitionedTable('day')
    const columns = (table: string) => sql`
      select column_name, data_type, is_nullable, column_default, is_identity, identity_generation
      from information_schema.columns where table_name = ${table} order by ordinal_position`
    for (const suffix of ['', '_spans']) {
      const a = await columns(`${plain}${suffix}`)
      const b = await columns(`${parted}${suffix}`)
      expect(b.length).toBeGreaterThan(5)
      expect(b).toEqual(a)
    }
  })
})
