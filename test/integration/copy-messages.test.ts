/**
 * copyLogRows sends a batch's COPY text as several CopyData messages: the
 * rows arrive whole and in order whatever the cut, and a row the server
 * refuses in the last message still fails the COPY instead of hanging it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../sinks/postgres/connect.js'
import { copyLogRows } from '../../sinks/postgres/copy-log-rows.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { migrate } from '../../sinks/postgres/migrations.js'
import { postgresMigrations } from '../../sinks/postgres/postgres-sink.js'
import { tableNames, type TableNames } from '../../sinks/postgres/table-names.js'
import { parseLine } from '../../src/records/parse-line.js'
import { sqlClient, uniqueTable } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

async function freshTable(): Promise<TableNames> {
  const names = tableNames('public', uniqueTable('copy_messages'))
  await migrate(sql as unknown as Sql, names, postgresMigrations({ partition: false }))
  return names
}

function batchOf(count: number): EncodedBatch {
  const records = Array.from({ length: count }, (_, i) => {
    // Lengths vary so that message boundaries fall inside rows and inside multi-byte characters.
    const line = JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, msg: `row ${i} ${'é'.repeat(i % 97)}`, n: i })
    const parsed = parseLine(line, Buffer.byteLength(line), i + 1, 1_700_000_000_000)
    if (!parsed.ok) throw new Error('test line must parse')
    return parsed.record
  })
  return EncodedBatch.encode(records, 'copy-messages')
}

describe('COPY in several messages', () => {
  it('writes every row of a batch larger than one message, whole and in order', async () => {
    const names = await freshTable()
    const batch = batchOf(4000)
    expect(batch.copyData.length).toBeGreaterThan(8 * 64 * 1024)
    await sql.begin((tx) => copyLogRows(tx as unknown as Sql, names, batch.copyData))
    const rows = await sql<{ seq: string; msg: string; n: number }[]>`select seq, msg, (data->>'n')::int as n from ${sql(names.logs)} order by seq`
    expect(rows).toHaveLength(4000)
    rows.forEach((row, i) => {
      expect(Number(row.seq)).toBe(i + 1)
      expect(row.msg).toBe(`row ${i} ${'é'.repeat(i % 97)}`)
      expect(row.n).toBe(i)
    })
  })

  it('fails the COPY when the server refuses a row in the last message, and writes none of them', async () => {
    const names = await freshTable()
    const good = batchOf(3000).copyData
    const data = Buffer.concat([good, Buffer.from('not a row\n')])
    await expect(sql.begin((tx) => copyLogRows(tx as unknown as Sql, names, data))).rejects.toThrow()
    const rows = await sql<{ count: string }[]>`select count(*) from ${sql(names.logs)}`
    expect(Number(rows[0]?.count)).toBe(0)
  })
})
