/**
 * The Postgres sink's handling of mixed batches (logs + spans), driven
 * directly: both tables in one transaction, the idempotency check across both.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { PostgresSink } from '../../sinks/postgres/postgres-sink.js'
import type { AttemptDatabase } from '../../sinks/postgres/write-batch.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import { parseLine } from '../../src/records/parse-line.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'
import { signedSpan } from '../support/signed-span.js'

const sql = sqlClient()
afterAll(() => sql.end())

function record(value: Record<string, unknown>, seq: number): LogRecord {
  const line = JSON.stringify(value)
  const parsed = parseLine(line, Buffer.byteLength(line), seq, Date.now())
  if (!parsed.ok) throw new Error('test record must parse')
  return parsed.record
}

function span(seq: number, name: string): LogRecord {
  const start = Date.now()
  return record(
    signedSpan({
      level: 30, time: start, sluice: 'span', trace_id: 'ab'.repeat(16), span_id: seq.toString(16).padStart(16, '0'),
      name, start_time: start, end_time: start + 1.5, duration_ms: 1.5, status: 'ok',
      usage: { input_tokens: '9223372036854775807', output_tokens: 1, cache_read_tokens: 0, cache_creation_tokens: 0, models: {} },
    }),
    seq,
  )
}

describe('PostgresSink with spans', () => {
  it('writes logs and spans of one batch to their tables, and a retry check counts both tables', async () => {
    const table = uniqueTable('spsink')
    const spansCounted: number[] = []
    const sink = new PostgresSink(resolveOptions({ postgres: { url: databaseUrl(), table } }).postgres!, 'test-writer', {
      onRetry: () => {},
      onProblem: () => {},
      onSpansWritten: (n) => spansCounted.push(n),
    })
    const batch = [record({ level: 30, time: Date.now(), msg: 'a' }, 1), span(2, 's1'), record({ level: 30, msg: 'b' }, 3), span(4, 's2')]
    expect(await sink.write(batch, Deadline.never().context())).toEqual({ delivered: 4, rejected: 0, unavailable: 0 })
    expect(spansCounted).toEqual([2])
    const [logs] = await sql`select count(*)::int as n from ${sql(table)}`
    const spans = await sql`select name, seq::int, input_tokens::text from ${sql(`${table}_spans`)} order by seq`
    expect(logs?.n).toBe(2)
    expect(spans).toEqual([
      { name: 's1', seq: 2, input_tokens: '9223372036854775807' },
      { name: 's2', seq: 4, input_tokens: '9223372036854775807' },
    ])
    // What a retry asks after a lost commit acknowledgement: the batch's ledger row covers both tables' seqs 1..4.
    const { database } = sink as unknown as { database: AttemptDatabase }
    const asked = EncodedBatch.encode([...batch, span(5, 'never written')], sink.writerId)
    const missing = await database.uncommitted(asked, Date.now() + 5000)
    const committed = asked.size - missing.size
    expect(committed).toBe(4)
    expect([...missing.logSeqs, ...missing.spans.map((s) => s.seq)]).toEqual([5])
    await sink.close()
  })
})
