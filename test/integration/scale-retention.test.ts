/**
 * Retention drops whole expired partitions only (never rows of a partition
 * that still holds unexpired ones), by the writer on its schedule and by
 * `sluice prune`, whose --dry-run changes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../sinks/postgres/connect.js'
import { migrate } from '../../sinks/postgres/migrations.js'
import { listPartitions } from '../../sinks/postgres/partition-catalog.js'
import { PartitionKeeper } from '../../sinks/postgres/partitions.js'
import { postgresMigrations } from '../../sinks/postgres/postgres-sink.js'
import { applyRetention, planRetention } from '../../sinks/postgres/retention.js'
import { tableNames } from '../../sinks/postgres/table-names.js'
import { main } from '../../src/cli/main.js'
import { databaseUrl, expectBalanced, sqlClient, startTransport, uniqueTable } from '../support/transport.js'
import { captureStdout } from '../support/capture-stdout.js'

const sql = sqlClient()
const db = sql as unknown as Sql
afterAll(() => sql.end())

const DAY = 86_400_000

/** A day-partitioned table with one partition and one row per day for the last `days` days, plus one stray row in DEFAULT. */
async function tableWithHistory(days: number): Promise<string> {
  const table = uniqueTable('ret')
  await migrate(db, tableNames('public', table), postgresMigrations({ partition: 'day' }))
  const now = Date.now()
  const times = Array.from({ length: days }, (_, i) => now - i * DAY)
  await new PartitionKeeper(db, 'public', table, 'time', (days + 1) * DAY).ensure(times, now)
  for (const [i, t] of times.entries()) {
    await sql`insert into ${sql(table)} (time, level, msg, writer_id, seq) values (${new Date(t)}, 30, ${`day -${i}`}, 'w', ${i})`
  }
  await sql`insert into ${sql(table)} (time, level, msg, writer_id, seq) values ('1971-01-01', 30, 'stray', 'w', 9999)`
  return table
}

async function rangePartitions(table: string) {
  return (await listPartitions(db, 'public', table)).filter((p) => !p.isDefault)
}

describe('retention', () => {
  it('drops only partitions entirely older than the cutoff; the one straddling it keeps its rows', async () => {
    const table = await tableWithHistory(20)
    const now = Date.now()
    const plan = await planRetention(db, 'public', table, 'time', 14 * DAY, now)
    if (!plan) throw new Error('expected a partitioned table')
    const cutoff = now - 14 * DAY
    expect(plan.expired.length).toBeGreaterThan(0)
    for (const p of plan.expired) expect(p.to?.getTime()).toBeLessThanOrEqual(cutoff)
    for (const p of plan.kept) expect(p.to?.getTime()).toBeGreaterThan(cutoff)
    expect(plan.defaultExpiredRows).toBe(1)
    const result = await applyRetention(db, plan, 'try')
    expect(result).toMatchObject({ locked: true, defaultRowsDeleted: 1 })
    expect(result.dropped).toEqual(plan.expired.map((p) => p.name))
    const left = await sql<{ time: Date }[]>`select time from ${sql(table)}`
    // Every row whose day is not wholly expired is still there, including rows older than the cutoff in the straddling day.
    const keptFrom = Math.floor(cutoff / DAY) * DAY
    expect(left.every((r) => r.time.getTime() >= keptFrom)).toBe(true)
    expect(left).toHaveLength(Array.from({ length: 20 }, (_, i) => now - i * DAY).filter((t) => t >= keptFrom).length)
    expect(await rangePartitions(table)).toHaveLength(plan.kept.length)
  })

  it('is applied by the writer at start when postgres.retention is set', async () => {
    const table = await tableWithHistory(20)
    const before = await rangePartitions(table)
    const h = await startTransport({ postgres: { partition: 'day', retention: '14d' } }, table)
    h.logger.info('now')
    await h.flush()
    await h.close()
    expectBalanced(h.stats, expect)
    const after = await rangePartitions(table)
    const cutoff = Date.now() - 14 * DAY
    expect(after.length).toBeLessThan(before.length)
    expect(after.every((p) => (p.to?.getTime() ?? 0) > cutoff - 60_000)).toBe(true)
  })

  it('sluice prune --dry-run lists what would go and drops nothing; without it, drops exactly that', async () => {
    const table = await tableWithHistory(20)
    const before = await rangePartitions(table)
    const dry = await captureStdout(() => main(['prune', '--dry-run', '--url', databaseUrl(), '--table', table, '--retention', '14d']))
    expect(dry.code).toBe(0)
    const plan = await planRetention(db, 'public', table, 'time', 14 * DAY)
    for (const p of plan?.expired ?? []) expect(dry.text).toContain(`would drop ${p.name}`)
    expect(dry.text).toContain(`${table}_pdefault (DEFAULT, stray timestamps): 1 row(s) older than the cutoff would be deleted`)
    expect(dry.text).toContain(`public.${table}_spans: cutoff`)
    expect(dry.text).toContain('dry run: nothing was dropped')
    expect(await rangePartitions(table)).toHaveLength(before.length)

    const real = await captureStdout(() => main(['prune', '--url', databaseUrl(), '--table', table, '--retention', '14d', '--json']))
    expect(real.code).toBe(0)
    const report = JSON.parse(real.text) as { tables: { table: string; dropped: string[]; defaultRowsDeleted: number }[] }
    expect(report.tables[0]?.dropped).toEqual(plan?.expired.map((p) => p.name))
    expect(report.tables[0]?.defaultRowsDeleted).toBe(1)
    expect(await rangePartitions(table)).toHaveLength(before.length - (plan?.expired.length ?? 0))
  })

  it('sluice prune refuses a bad retention and says nothing needs pruning on a plain table', async () => {
    expect(await main(['prune', '--url', databaseUrl(), '--retention', '14x'])).toBe(2)
    const table = uniqueTable('plain')
    await migrate(db, tableNames('public', table), postgresMigrations({ partition: false }))
    const out = await captureStdout(() => main(['prune', '--dry-run', '--url', databaseUrl(), '--table', table, '--retention', '1d']))
    expect(out.text).toContain(`public.${table}: not a partitioned table`)
  })
})
