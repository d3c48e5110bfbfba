/**
 * Many processes, one table: app processes started together, each with its
 * own pino-sluice worker, write into the same fresh (partitioned) table.
 * Concurrent migrations and partition creation must not fail anyone; every
 * process's accounting is exact and its rows are exactly its `written`.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'
import { captureStdout } from '../support/capture-stdout.js'

const APP = fileURLToPath(new URL('../fixtures/scale-writer.mjs', import.meta.url))
const sql = sqlClient()
afterAll(() => sql.end())

interface WriterReport {
  pid: number
  stats: { received: number; written: number; dropped: number; failed: number }
}

async function runWriter(table: string, count: number): Promise<{ report: WriterReport; stderr: string }> {
  const child = spawn(process.execPath, [APP, databaseUrl(), table, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const [code] = await once(child, 'exit')
  expect(code, err).toBe(0)
  return { report: JSON.parse(out.trim()) as WriterReport, stderr: err }
}

describe('many writer processes into one table', () => {
  it('start together, migrate once, and each one\'s rows are exactly its written count, with no duplicates', async () => {
    const table = uniqueTable('scale')
    const writers = 4
    const count = 3000
    const results = await Promise.all(Array.from({ length: writers }, () => runWriter(table, count)))

    // The schema was made once, whatever the interleaving.
    const migrations = await sql`select component, version from pino_sluice_migrations where target = ${table} order by 1, 2`
    expect(migrations.map((m) => `${m.component}@${m.version}`)).toEqual(['logs@0', 'logs@1', 'logs@2', 'spans@0', 'spans@1', 'spans@2', 'stats@1'])
    const [kind] = await sql`select relkind from pg_class where relname = ${table}`
    expect(kind?.relkind).toBe('p')

    const rows = await sql<{ writer_id: string; n: number }[]>`
      select writer_id, count(*)::int as n from ${sql(table)} where not (data ? 'pino_sluice') group by writer_id`
    expect(rows).toHaveLength(writers)
    for (const { report, stderr } of results) {
      const s = report.stats
      expect(stderr).not.toMatch(/pino-sluice:/)
      expect(s.received).toBe(count)
      expect(s.received).toBe(s.written + s.dropped + s.failed)
      expect(s.failed).toBe(0)
      const mine = rows.filter((r) => r.writer_id.split(':')[1] === String(report.pid))
      expect(mine).toHaveLength(1)
      expect(mine[0]?.n).toBe(s.written)
    }
    const [dupes] = await sql`select count(*)::int as n, count(distinct (writer_id, seq))::int as distinct_n from ${sql(table)}`
    expect(dupes?.n).toBe(dupes?.distinct_n)
    // The commit ledger accounts for every row of every writer (its transactions, notice rows included).
    const perWriter = (list: { writer_id: string; n: number }[]) => Object.fromEntries(list.map((r) => [r.writer_id, r.n]))
    const stored = await sql<{ writer_id: string; n: number }[]>`select writer_id, count(*)::int as n from ${sql(table)} group by writer_id`
    const ledger = await sql<{ writer_id: string; n: number }[]>`select writer_id, sum(records)::int as n from ${sql(`${table}_ledger`)} group by writer_id`
    expect(perWriter(ledger)).toEqual(perWriter(stored))

    // One final stats row per writer, matching what each process counted.
    const stats = await sql<{ writer_id: string; pid: number; final: boolean; counters: Record<string, number> }[]>`
      select writer_id, pid, final, counters from ${sql(`${table}_stats`)}`
    expect(stats).toHaveLength(writers)
    for (const { report } of results) {
      const row = stats.find((r) => r.pid === report.pid)
      expect(row?.final).toBe(true)
      expect(row?.counters.written).toBe(report.stats.written)
      expect(row?.counters.received).toBe(report.stats.received)
    }

    // `sluice tail --url <postgres>` sums them.
    const { code, text } = await captureStdout(() => main(['tail', '--url', databaseUrl(), '--table', table, '--count', '1', '--json']))
    expect(code).toBe(0)
    const update = JSON.parse(text.trim()) as { total: Record<string, number>; writers: { pid: number; dropped: number }[] }
    const sum = (key: 'written' | 'dropped' | 'failed' | 'received'): number => results.reduce((n, r) => n + r.report.stats[key], 0)
    expect(update.total).toMatchObject({ received: sum('received'), written: sum('written'), dropped: sum('dropped'), failed: sum('failed') })
    expect(update.writers.map((w) => w.pid).sort()).toEqual(results.map((r) => r.report.pid).sort())
    const plain = await captureStdout(() => main(['tail', '--url', databaseUrl(), '--table', table, '--count', '1']))
    expect(plain.text).toContain(`writers=${writers} received=${sum('received')} written=${sum('written')}`)
  }, 60_000)
})
