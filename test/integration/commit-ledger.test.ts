/**
 * The commit ledger (sinks/postgres/commit-ledger.ts): the migration that
 * creates it and drops the logs table's unique index (fresh, over an older
 * install, partitioned or not), the rows committed batches leave in it (a
 * bisected batch: only its committed parts), the retry check built on it,
 * and pruning by age.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { committedRanges, inRanges } from '../../sinks/postgres/commit-ledger.js'
import type { Sql } from '../../sinks/postgres/connect.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { migrate } from '../../sinks/postgres/migrations.js'
import { PartitionKeeper } from '../../sinks/postgres/partitions.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { PostgresSink, postgresMigrations } from '../../sinks/postgres/postgres-sink.js'
import type { AttemptDatabase } from '../../sinks/postgres/write-batch.js'
import { TableMaintenance } from '../../sinks/postgres/table-maintenance.js'
import { tableNames } from '../../sinks/postgres/table-names.js'
import { resolveOptions } from '../../src/options/resolve-options.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine } from '../../src/records/parse-line.js'
import { databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'
import { spanProof } from '../../sinks/shared/record-proof.js'

const sql = sqlClient()
const db = sql as unknown as Sql
afterAll(() => sql.end())

const DAY = 86_400_000
type Partition = 'day' | false

/** Every migration of a version before the ledger (logs@2 left out). */
function migrationsBeforeLedger(partition: Partition) {
  return postgresMigrations({ partition }).filter((m) => !(m.component === 'logs' && m.version === 2))
}

/** Indexes on the logs table or any of its partitions whose key starts with (writer_id, seq). */
async function writerSeqIndexes(table: string): Promise<string[]> {
  const rows = await sql<{ indexname: string }[]>`
    select indexname from pg_indexes
    where schemaname = 'public' and (tablename = ${table} or tablename like ${`${table}\\_p%`}) and indexdef like '%(writer_id, seq%'
    order by 1`
  return rows.map((r) => r.indexname)
}

async function ledgerColumns(table: string): Promise<string[]> {
  const rows = await sql<{ column_name: string }[]>`
    select column_name from information_schema.columns where table_name = ${`${table}_ledger`} order by ordinal_position`
  return rows.map((r) => r.column_name)
}

async function ledgerRows(table: string) {
  return sql<{ writer_id: string; first_seq: number; last_seq: number; records: number }[]>`
    select writer_id, first_seq::int, last_seq::int, records from ${sql(`${table}_ledger`)} order by writer_id, first_seq`
}

const LEDGER_COLUMNS = ['writer_id', 'first_seq', 'last_seq', 'records', 'committed_at']

describe('the ledger migration (logs@2)', () => {
  it.each([false, 'day'] as const)('a fresh table (partition %s) gets the ledger and no unique (writer_id, seq, time) index', async (partition) => {
    const table = uniqueTable('ledger_fresh')
    await migrate(db, tableNames('public', table), postgresMigrations({ partition }))
    if (partition) await new PartitionKeeper(db, 'public', table, 'time', DAY).ensure([Date.now()])
    expect(await writerSeqIndexes(table)).toEqual([])
    expect(await ledgerColumns(table)).toEqual(LEDGER_COLUMNS)
    const [pk] = await sql`select indexdef from pg_indexes where tablename = ${`${table}_ledger`} and indexname = ${`${table}_ledger_pkey`}`
    expect(pk?.indexdef).toContain('(writer_id, first_seq)')
    const migrations = await sql`select version, description from pino_sluice_migrations where target = ${table} and component = 'logs' order by version`
    expect(migrations.map((m) => m.version)).toEqual(partition ? [0, 1, 2] : [1, 2])
    expect(migrations.at(-1)?.description).toContain('commit ledger')
  })

  it.each([false, 'day'] as const)('migrates a table made by an older version (partition %s): index gone, ledger there, rows intact', async (partition) => {
    const table = uniqueTable('ledger_old')
    const names = tableNames('public', table)
    await migrate(db, names, migrationsBeforeLedger(partition))
    const now = Date.now()
    if (partition) await new PartitionKeeper(db, 'public', table, 'time', 3 * DAY).ensure([now - DAY, now])
    for (const [i, t] of [now - DAY, now, now].entries()) {
      await sql`insert into ${sql(table)} (time, level, msg, writer_id, seq) values (${new Date(t)}, 30, ${`old ${i}`}, 'old-writer', ${i + 1})`
    }
    const before = await writerSeqIndexes(table)
    // The parent's index, and on a partitioned table its copy on each partition (two days and DEFAULT).
    expect(before).toContain(`${table}_writer_seq`)
    expect(before).toHaveLength(partition ? 4 : 1)

    expect(await migrate(db, names, postgresMigrations({ partition }))).toBe(1)
    expect(await writerSeqIndexes(table)).toEqual([])
    expect(await ledgerColumns(table)).toEqual(LEDGER_COLUMNS)
    const rows = await sql`select msg, writer_id, seq::int from ${sql(table)} order by seq`
    expect(rows).toEqual([1, 2, 3].map((seq) => ({ msg: `old ${seq - 1}`, writer_id: 'old-writer', seq })))
    // Partitions made after the migration get no such index either.
    if (partition) await new PartitionKeeper(db, 'public', table, 'time', 3 * DAY).ensure([now + DAY])
    expect(await writerSeqIndexes(table)).toEqual([])
  })
})

function record(seq: number, msg: string): LogRecord {
  const line = JSON.stringify({ level: 30, time: Date.now(), msg })
  const parsed = parseLine(line, Buffer.byteLength(line), seq, Date.now())
  if (!parsed.ok) throw new Error('test record must parse')
  return parsed.record
}

function span(seq: number): LogRecord {
  const start = Date.now()
  const fields = {
    level: 30, time: start, sluice: 'span', trace_id: 'cd'.repeat(16), span_id: seq.toString(16).padStart(16, '0'),
    name: 'work', start_time: start, end_time: start + 1, duration_ms: 1, status: 'ok',
  }
  const line = JSON.stringify({ ...fields, sluice_proof: spanProof(fields) })
  const parsed = parseLine(line, Buffer.byteLength(line), seq, start)
  if (!parsed.ok) throw new Error('test span must parse')
  return parsed.record
}

const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('the ledger rows of committed batches', () => {
  it('one row per transaction, with its seq range and count across logs and spans; a bisected batch leaves rows only for its committed parts', async () => {
    const table = uniqueTable('ledger_rows')
    const sink = new PostgresSink(resolveOptions({ postgres: { url: databaseUrl(), table } }).postgres!, 'ledger-writer', { onRetry: () => {}, onProblem: () => {} })
    const forever = Deadline.never().context()
    expect(await sink.write([record(1, 'a'), span(2), record(3, 'b'), span(4)], forever)).toEqual({ delivered: 4, rejected: 0, unavailable: 0 })
    expect(await ledgerRows(table)).toEqual([{ writer_id: 'ledger-writer', first_seq: 1, last_seq: 4, records: 4 }])

    // Seq 15 is refused: 5..20 fails, 5..12 commits, 13..20 fails, 13..16 fails, 13..14 commits, 15..16 fails, 15 is rejected, 16 commits, 17..20 commits.
    await sql.unsafe(`alter table ${table} add constraint ${table}_no_bad check (msg <> 'bad')`)
    const batch = seqs(5, 20).map((seq) => record(seq, seq === 15 ? 'bad' : 'good'))
    expect(await sink.write(batch, forever)).toEqual({ delivered: 15, rejected: 1, unavailable: 0 })
    const ranges = (await ledgerRows(table)).map((r) => [r.first_seq, r.last_seq, r.records])
    expect(ranges).toEqual([[1, 4, 4], [5, 12, 8], [13, 14, 2], [16, 16, 1], [17, 20, 4]])

    // The retry check: exactly the committed records, found through the ranges overlapping the batch's.
    const { database } = sink as unknown as { database: AttemptDatabase }
    const asked = EncodedBatch.encode([...batch, record(21, 'never written')], sink.writerId)
    const missing = await database.uncommitted(asked, Date.now() + 5000)
    const committed = asked.size - missing.size
    expect([...missing.logSeqs]).toEqual([15, 21])
    expect(committed).toBe(15)
    await sink.close()
  })

  it('committedRanges returns the ranges overlapping [low, high], including the one starting below low', async () => {
    const table = uniqueTable('ledger_ranges')
    const names = tableNames('public', table)
    await migrate(db, names, postgresMigrations({ partition: false }))
    for (const [first, last] of [[1, 8], [9, 10], [12, 12], [13, 16]] as const) {
      await sql`insert into ${sql(names.ledger)} (writer_id, first_seq, last_seq, records) values ('w', ${first}, ${last}, ${last - first + 1})`
    }
    await sql`insert into ${sql(names.ledger)} (writer_id, first_seq, last_seq, records) values ('other', 11, 11, 1)`
    const ask = (low: number, high: number) => committedRanges(db, names, 'w', { first: low, last: high })
    expect(await ask(5, 12)).toEqual([{ first: 1, last: 8 }, { first: 9, last: 10 }, { first: 12, last: 12 }])
    expect(await ask(11, 11)).toEqual([])
    expect(await ask(14, 30)).toEqual([{ first: 13, last: 16 }])
    expect(await ask(17, 30)).toEqual([])
    const all = await ask(1, 16)
    expect(seqs(0, 17).filter((seq) => inRanges(seq, all))).toEqual([...seqs(1, 10), ...seqs(12, 16)])
  })
})

describe('a retry whose commit check fails or whose batch is split after an unanswered attempt', () => {
  /** Attempt 1 commits but its answer is lost; the checks that follow see nothing yet, or fail, as `checks` says in turn. */
  function flakySink(table: string, checks: ('stale' | 'fail' | 'odd' | 'real')[], failAfterCommit = 1) {
    const sink = new PostgresSink(resolveOptions({ postgres: { url: databaseUrl(), table, retry: { initialDelayMs: 10, maxDelayMs: 20, budgetMs: 5000 } } }).postgres!, 'flaky', {
      onRetry: () => {},
      onProblem: () => {},
    })
    const { database } = sink as unknown as { database: AttemptDatabase }
    const insert = database.insert.bind(database)
    const check = database.uncommitted.bind(database)
    let inserts = 0
    database.insert = async (batch, end, tighten) => {
      await insert(batch, end, tighten)
      if (++inserts <= failAfterCommit) throw Object.assign(new Error('connection lost after COMMIT'), { code: 'CONNECTION_CLOSED' })
    }
    database.uncommitted = async (batch, end) => {
      const next = checks.shift() ?? 'real'
      if (next === 'stale') return batch
      if (next === 'fail') throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
      // No code at all: what classify-error would otherwise take for bad data.
      if (next === 'odd') throw new Error('something odd')
      return check(batch, end)
    }
    return sink
  }

  async function copiesPerSeq(table: string): Promise<string> {
    const rows = await sql<{ seq: number; n: number }[]>`select seq::int, count(*)::int as n from ${sql(table)} group by seq order by seq`
    return rows.map((r) => `${r.seq}:${r.n}`).join(' ')
  }

  it('a 23505 whose ledger check fails is retried, not taken for bad data: no half is written twice', async () => {
    const table = uniqueTable('ledger_flaky_check')
    // The retry's own check is stale (attempt 1 not visible yet), so it runs into attempt 1's ledger key (23505); the check after that fails once.
    const sink = flakySink(table, ['stale', 'fail'])
    expect(await sink.write(seqs(1, 8).map((seq) => record(seq, `m${seq}`)), Deadline.never().context())).toEqual({ delivered: 8, rejected: 0, unavailable: 0 })
    expect(await copiesPerSeq(table)).toBe(seqs(1, 8).map((seq) => `${seq}:1`).join(' '))
    expect((await ledgerRows(table)).map((r) => [r.first_seq, r.last_seq])).toEqual([[1, 8]])
    await sink.close()
  })

  it('a ledger check that fails with an error of no known kind is retried too, never taken for bad data', async () => {
    const table = uniqueTable('ledger_odd_check')
    const sink = flakySink(table, ['odd'])
    expect(await sink.write(seqs(1, 8).map((seq) => record(seq, `m${seq}`)), Deadline.never().context())).toEqual({ delivered: 8, rejected: 0, unavailable: 0 })
    expect(await copiesPerSeq(table)).toBe(seqs(1, 8).map((seq) => `${seq}:1`).join(' '))
    await sink.close()
  })

  it('halves of a batch split after an unanswered attempt check the ledger first', async () => {
    const table = uniqueTable('ledger_split_uncertain')
    const sink = flakySink(table, [], 0)
    // Make the table, then a batch whose attempt 1 commits unanswered, and whose attempt 2 is refused for its data (seq 5 is bad by then).
    await sink.write([record(100, 'warm-up')], Deadline.never().context())
    const { database } = sink as unknown as { database: AttemptDatabase }
    const insert = database.insert.bind(database)
    let calls = 0
    database.insert = async (batch, end, tighten) => {
      calls++
      if (calls === 1) {
        await insert(batch, end, tighten)
        await sql.unsafe(`alter table ${table} add constraint ${table}_no_bad check (msg <> 'bad') not valid`)
        throw Object.assign(new Error('connection lost after COMMIT'), { code: 'CONNECTION_CLOSED' })
      }
      return insert(batch, end, tighten)
    }
    const check = database.uncommitted.bind(database)
    let checked = 0
    // The first check (before attempt 2) does not see attempt 1 yet; later ones are real.
    database.uncommitted = async (batch, end) => (++checked === 1 ? batch : check(batch, end))
    const batch = seqs(1, 8).map((seq) => record(seq, seq === 5 ? 'bad' : `m${seq}`))
    const outcome = await sink.write(batch, Deadline.never().context())
    // Attempt 1 stored all 8 (the constraint came after); the halves found them in the ledger instead of writing them again.
    expect(outcome).toEqual({ delivered: 8, rejected: 0, unavailable: 0 })
    expect(await copiesPerSeq(table)).toBe([...seqs(1, 8), 100].map((seq) => `${seq}:1`).join(' '))
    await sink.close()
  })
})

describe('pruning the ledger', () => {
  it('the maintenance tick deletes rows older than a day, of every writer, even without retention or partitions', async () => {
    const table = uniqueTable('ledger_prune')
    const names = tableNames('public', table)
    await migrate(db, names, postgresMigrations({ partition: false }))
    const rows: [string, number, string][] = [
      ['crashed', 1, '3 days'],
      ['alive', 1, '25 hours'],
      ['alive', 100, '23 hours'],
      ['alive', 200, '1 minute'],
      ['other', 1, '0 seconds'],
    ]
    for (const [writer, seq, age] of rows) {
      await sql`insert into ${sql(names.ledger)} (writer_id, first_seq, last_seq, records, committed_at)
        values (${writer}, ${seq}, ${seq + 9}, 10, now() - ${age}::interval)`
    }
    const options = resolveOptions({ postgres: { url: databaseUrl(), table, partition: false, statsIntervalMs: 0 } }).postgres!
    expect(options.retentionMs).toBeUndefined()
    const problems: string[] = []
    const maintenance = new TableMaintenance(db, names, options, 'pruner', { onProblem: (m) => problems.push(m) })
    await maintenance.afterMigrate()
    await maintenance.close()
    expect(problems).toEqual([])
    const left = await ledgerRows(table)
    expect(left.map((r) => `${r.writer_id}@${r.first_seq}`)).toEqual(['alive@100', 'alive@200', 'other@1'])
  })
})
