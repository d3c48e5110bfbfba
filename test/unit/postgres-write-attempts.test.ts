/**
 * The Postgres sink's retry loop (write-attempts.ts, driven by write-batch.ts)
 * against a fake database: a table and a commit ledger in memory, whose
 * inserts fail, commit, or commit and then lose their answer as each test
 * scripts. No server, no build; the clock is vitest's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { withinAttempt } from '../../sinks/postgres/attempt-limit.js'
import { RetryWindow } from '../../sinks/postgres/backoff.js'
import { inRanges, type SeqRange } from '../../sinks/postgres/commit-ledger.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import { Outage } from '../../sinks/postgres/outage.js'
import { writeBatch, type AttemptDatabase } from '../../sinks/postgres/write-batch.js'
import { WriteAttempts, type AttemptContext } from '../../sinks/postgres/write-attempts.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'

const WRITER = 'unit-writer'
/** The fake has no sockets to destroy when an attempt outlives its limit. */
const NO_SOCKETS = { dropAll: () => {} }
const fault = (code: string, message = code) => Object.assign(new Error(message), { code })

/** What the next insert does: commit, fail before committing, commit and then lose the answer, or commit and then go down. */
type InsertScript = 'commit' | { fail: Error } | { commitThenFail: Error } | 'commit-then-down'

/**
 * A table and its commit ledger, each call bounded by its attempt's end as
 * the real one is (attempt-limit.ts). An insert of a batch holding a `bad` seq is
 * refused for its data (23514); one whose first seq is a committed range's
 * first fails 23505 (the ledger's primary key), as on the real server.
 * While `down`, inserts and ledger checks fail ECONNREFUSED.
 */
class FakeDatabase implements AttemptDatabase {
  /** Copies of each seq written. */
  readonly rows = new Map<number, number>()
  readonly ledger: SeqRange[] = []
  /** The seqs of every insert tried, in order, and whether it tightened the server's timeouts. */
  readonly inserts: { seqs: number[]; tighten: boolean }[] = []
  checks = 0
  down = false

  constructor(
    private readonly script: InsertScript[] = [],
    private readonly bad = new Set<number>(),
    /** What the next ledger checks see: 'stale' misses commits not yet visible. */
    private readonly checkScript: 'stale'[] = [],
  ) {}

  insert(batch: EncodedBatch, end: number, tighten: boolean): Promise<void> {
    return withinAttempt(NO_SOCKETS, end, () => this.transaction(batch, tighten))
  }

  uncommitted(batch: EncodedBatch, end: number): Promise<EncodedBatch> {
    return withinAttempt(NO_SOCKETS, end, () => this.ledgerCheck(batch))
  }

  private async transaction(batch: EncodedBatch, tighten: boolean): Promise<void> {
    await Promise.resolve()
    const seqs = seqsOf(batch)
    this.inserts.push({ seqs, tighten })
    if (this.down) throw fault('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')
    const next = this.script.shift() ?? 'commit'
    if (typeof next === 'object' && 'fail' in next) throw next.fail
    if (seqs.some((seq) => this.bad.has(seq))) throw fault('23514', 'new row violates check constraint')
    if (this.ledger.some((range) => range.first === seqs[0])) throw fault('23505', 'duplicate key value violates unique constraint')
    for (const seq of seqs) this.rows.set(seq, (this.rows.get(seq) ?? 0) + 1)
    this.ledger.push({ first: seqs[0] as number, last: seqs[seqs.length - 1] as number })
    this.ledger.sort((a, b) => a.first - b.first)
    if (next === 'commit-then-down') this.down = true
    if (typeof next === 'object') throw next.commitThenFail
  }

  private async ledgerCheck(batch: EncodedBatch): Promise<EncodedBatch> {
    await Promise.resolve()
    this.checks++
    if (this.down) throw fault('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')
    if (this.checkScript.shift() === 'stale') return batch
    return batch.keep((seq) => !inRanges(seq, this.ledger))
  }

  /** "1:1 2:1 …": copies per seq written. */
  copies(): string {
    return [...this.rows].sort(([a], [b]) => a - b).map(([seq, n]) => `${seq}:${n}`).join(' ')
  }
}

function seqsOf(batch: EncodedBatch): number[] {
  return [...batch.logSeqs, ...batch.spans.map((span) => span.seq)].sort((a, b) => a - b)
}

function batchOf(from: number, to: number): EncodedBatch {
  const records: LogRecord[] = []
  for (let seq = from; seq <= to; seq++) records.push({ seq, time: 1_700_000_000_000 + seq, level: 30, bytes: 20, value: { msg: `m${seq}` } })
  return EncodedBatch.encode(records, WRITER)
}

const once = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}:1`).join(' ')

/** A batch's context as the sink gives it, recording what the attempts tell; `deadline` moves as an exit does. */
function harness(retry = { initialDelayMs: 100, maxDelayMs: 400, budgetMs: 2000 }) {
  const h = { problems: [] as string[], stopping: new AbortController(), retries: 0, tablesForgotten: 0, deadline: Number.POSITIVE_INFINITY }
  const outage = new Outage('postgres://db.test:5432/logs', retry.budgetMs, (message) => h.problems.push(message))
  const context: AttemptContext = {
    window: new RetryWindow(retry, () => h.deadline, 500),
    stopping: h.stopping.signal,
    onRetry: () => h.retries++,
    onProblem: (message) => h.problems.push(message),
    answered: () => outage.answered(),
    failed: (error) => outage.failed(error),
    refused: () => h.tablesForgotten++,
  }
  return Object.assign(h, { context })
}
type Harness = ReturnType<typeof harness>

/** Runs the batch to its outcome on the fake clock. */
async function write(batch: EncodedBatch, database: FakeDatabase, h: Harness, uncertain = false) {
  const outcome = writeBatch(batch, uncertain, database, h.context)
  await vi.runAllTimersAsync()
  return outcome
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('a batch on a database that answers', () => {
  it('commits at the first attempt: one insert, no ledger check, the server keeps its own timeouts', async () => {
    const database = new FakeDatabase()
    const h = harness()
    expect(await write(batchOf(1, 4), database, h)).toEqual({ written: 4, rejected: 0, unavailable: 0 })
    expect(database.inserts).toEqual([{ seqs: [1, 2, 3, 4], tighten: false }])
    expect(database.checks).toBe(0)
    expect(h.problems).toEqual([])
  })

  it('a replay from the spool (uncertain) asks the ledger before its first insert, and writes only what it lacks', () => {
    const attempts = new WriteAttempts(batchOf(1, 4), true, harness().context)
    const first = attempts.first()
    expect(first.do).toBe('check')
    const step = attempts.next({ kind: 'checked', uncommitted: batchOf(3, 4) })
    expect(step).toMatchObject({ do: 'insert', tighten: true })
    expect(step.do === 'insert' && seqsOf(step.batch)).toEqual([3, 4])
    expect(attempts.next({ kind: 'inserted' })).toEqual({ do: 'settle', outcome: { written: 4, rejected: 0, unavailable: 0 } })
  })
})

describe('transient failures', () => {
  it('a transient error, then success: retried after a backoff, the ledger asked first, the retry tightened to the window', async () => {
    const database = new FakeDatabase([{ fail: fault('ECONNRESET', 'read ECONNRESET') }])
    const h = harness()
    const started = Date.now()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 8, rejected: 0, unavailable: 0 })
    expect(database.inserts.map((i) => i.tighten)).toEqual([false, true])
    expect(database.checks).toBe(1)
    expect(database.copies()).toBe(once(1, 8))
    expect(h.retries).toBe(1)
    // Full jitter: the first wait is between half the initial delay and all of it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(50)
    expect(Date.now() - started).toBeLessThanOrEqual(100)
    expect(h.problems).toEqual([expect.stringMatching(/^cannot reach the database at db\.test:5432 \(ECONNRESET/), 'the database at db.test:5432 answers again; writing resumed'])
  })

  it('unreachable past the budget: counted unavailable, never longer than the budget, told once', async () => {
    const database = new FakeDatabase()
    database.down = true
    const h = harness({ initialDelayMs: 100, maxDelayMs: 400, budgetMs: 2000 })
    const started = Date.now()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 0, rejected: 0, unavailable: 8, unavailableSeqs: [1, 2, 3, 4, 5, 6, 7, 8] })
    expect(Date.now() - started).toBeLessThanOrEqual(2000)
    // After the first failure every retry asks the ledger first (the insert may have committed); those checks fail too.
    expect(database.inserts.length).toBe(1)
    expect(database.checks).toBeGreaterThanOrEqual(2)
    expect(database.rows.size).toBe(0)
    expect(h.problems).toEqual([
      expect.stringMatching(/^cannot reach the database at db\.test:5432 \(ECONNREFUSED: connect ECONNREFUSED.*retried for up to 2 s/),
      expect.stringMatching(/^gave up on a batch after retries \(postgres\.retry\.budgetMs\): ECONNREFUSED/),
    ])
  })

  it('a deadline moved earlier mid-retry (exit) stops the retries at once: the rest counts unavailable', async () => {
    const database = new FakeDatabase()
    database.down = true
    const h = harness({ initialDelayMs: 1000, maxDelayMs: 1000, budgetMs: 60_000 })
    const outcome = writeBatch(batchOf(1, 8), false, database, h.context)
    await vi.advanceTimersByTimeAsync(3000)
    const tried = database.inserts.length + database.checks
    expect(tried).toBeGreaterThanOrEqual(3)
    h.deadline = Date.now()
    const exitAt = Date.now()
    await vi.runAllTimersAsync()
    expect(await outcome).toEqual({ written: 0, rejected: 0, unavailable: 8, unavailableSeqs: [1, 2, 3, 4, 5, 6, 7, 8] })
    // At most the wait already under way, and no attempt after it: the deadline leaves none any time.
    expect(Date.now() - exitAt).toBeLessThanOrEqual(1000)
    expect(database.inserts.length + database.checks).toBe(tried)
    expect(h.problems.at(-1)).toMatch(/^gave up on a batch after retries .*ATTEMPT_TIMEOUT: no answer from the database within 0 ms/)
  })

  it('the sink stopping (cutOff) ends the wait under way; no attempt starts after it', async () => {
    const database = new FakeDatabase()
    database.down = true
    const h = harness({ initialDelayMs: 5000, maxDelayMs: 5000, budgetMs: 60_000 })
    const outcome = writeBatch(batchOf(1, 8), false, database, h.context)
    await vi.advanceTimersByTimeAsync(10)
    expect(database.inserts.length).toBe(1)
    const stoppedAt = Date.now()
    h.stopping.abort()
    expect(await outcome).toEqual({ written: 0, rejected: 0, unavailable: 8, unavailableSeqs: [1, 2, 3, 4, 5, 6, 7, 8] })
    expect(Date.now()).toBe(stoppedAt)
    expect(database.inserts.length).toBe(1)
    expect(database.checks).toBe(0)
  })
})

describe('records refused for their data', () => {
  it('the batch is split in halves until the bad record is isolated: rejected 1, written the other 7, each once', async () => {
    const database = new FakeDatabase([], new Set([5]))
    const h = harness()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 7, rejected: 1, unavailable: 0 })
    expect(database.inserts.map((i) => i.seqs.join(','))).toEqual(['1,2,3,4,5,6,7,8', '1,2,3,4', '5,6,7,8', '5,6', '5', '6', '7,8'])
    expect(database.copies()).toBe('1:1 2:1 3:1 4:1 6:1 7:1 8:1')
    expect(h.problems).toEqual([expect.stringMatching(/^record rejected by Postgres: 23514/)])
    // Data faults are answers: no retry, no wait.
    expect(h.retries).toBe(0)
  })

  it('a setup error (a dropped table) is not bisected: the whole batch unavailable, the tables prepared again', async () => {
    const database = new FakeDatabase([{ fail: fault('42P01', 'relation "logs" does not exist') }])
    const h = harness()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 0, rejected: 0, unavailable: 8, unavailableSeqs: [1, 2, 3, 4, 5, 6, 7, 8] })
    expect(database.inserts.length).toBe(1)
    expect(h.tablesForgotten).toBe(1)
    expect(h.problems).toEqual([expect.stringMatching(/^Postgres refuses the writes \(42P01.*8 records counted failed_db_unavailable/)])
  })
})

describe('commits whose answer was lost', () => {
  it('the connection died after COMMIT: the ledger says committed, so the batch is counted written and not inserted again', async () => {
    const database = new FakeDatabase([{ commitThenFail: fault('CONNECTION_CLOSED', 'write CONNECTION_CLOSED') }])
    const h = harness()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 8, rejected: 0, unavailable: 0 })
    expect(database.inserts.length).toBe(1)
    expect(database.checks).toBe(1)
    expect(database.copies()).toBe(once(1, 8))
  })

  it('a 23505 during a retry (the check did not see the commit yet) is checked against the ledger: written once, nothing rejected', async () => {
    const database = new FakeDatabase([{ commitThenFail: fault('ATTEMPT_TIMEOUT', 'no answer from the database within 5000 ms') }], new Set(), ['stale'])
    const h = harness()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 8, rejected: 0, unavailable: 0 })
    // Attempt 2 ran into attempt 1's ledger row; the check after it found all 8 committed.
    expect(database.inserts.length).toBe(2)
    expect(database.checks).toBe(2)
    expect(database.copies()).toBe(once(1, 8))
    expect(h.problems.filter((p) => p.startsWith('record rejected'))).toEqual([])
  })

  it('a 23505 that a ledger check cannot explain is the data at fault: isolated like any refused record', async () => {
    const attempts = new WriteAttempts(batchOf(1, 2), false, harness().context)
    expect(attempts.first().do).toBe('insert')
    // Some other unique constraint: the ledger holds none of the batch.
    const check = attempts.next({ kind: 'failed', error: fault('23505', 'duplicate key value violates unique constraint "other"') })
    expect(check.do).toBe('check')
    // Nothing committed: split, the low half first.
    const low = attempts.next({ kind: 'checked', uncommitted: batchOf(1, 2) })
    expect(low.do === 'insert' && seqsOf(low.batch)).toEqual([1])
  })

  it('a ledger check that fails is retried after a backoff, never taken for bad data', async () => {
    const h = harness()
    const attempts = new WriteAttempts(batchOf(1, 8), false, h.context)
    attempts.first()
    expect(attempts.next({ kind: 'failed', error: fault('CONNECTION_CLOSED') }).do).toBe('wait')
    expect(attempts.next({ kind: 'waited' }).do).toBe('check')
    // An error of no known kind from the check (which classify-error would take for bad data on an insert).
    expect(attempts.next({ kind: 'failed', error: new Error('something odd') }).do).toBe('wait')
    expect(attempts.next({ kind: 'waited' }).do).toBe('check')
    expect(attempts.next({ kind: 'checked', uncommitted: batchOf(9, 8) })).toEqual({ do: 'settle', outcome: { written: 8, rejected: 0, unavailable: 0 } })
    expect(h.retries).toBe(2)
  })
})

describe('written in part: the sink names what it could not write (issue 24)', () => {
  it('one half commits, then the database goes down and the other half runs out of budget: exactly that half is named unavailable', async () => {
    // Seq 7 is refused for its data: the batch is split; the low half commits and the database goes down with it.
    const database = new FakeDatabase([{ fail: fault('23514', 'new row violates check constraint') }, 'commit-then-down'])
    const h = harness({ initialDelayMs: 100, maxDelayMs: 400, budgetMs: 2000 })
    const started = Date.now()
    expect(await write(batchOf(1, 8), database, h)).toEqual({ written: 4, rejected: 0, unavailable: 4, unavailableSeqs: [5, 6, 7, 8] })
    expect(Date.now() - started).toBeLessThanOrEqual(2000)
    expect(database.inserts.map((i) => i.seqs.join(','))).toEqual(['1,2,3,4,5,6,7,8', '1,2,3,4', '5,6,7,8'])
    expect(database.copies()).toBe(once(1, 4))
    expect(h.problems.at(-1)).toMatch(/^gave up on a batch after retries/)
  })

  it('the halves still waiting when the window runs out are named too, not only the part that was tried', async () => {
    // 1-8 refused (seq 2 bad), 1-4 refused: 1-2 goes down; 3-4 and 5-8 never start.
    const database = new FakeDatabase([{ fail: fault('23514') }, { fail: fault('23514') }, { fail: fault('ECONNREFUSED') }], new Set([2]))
    const h = harness({ initialDelayMs: 100, maxDelayMs: 400, budgetMs: 2000 })
    const outcome = writeBatch(batchOf(1, 8), false, database, h.context)
    await vi.advanceTimersByTimeAsync(0)
    database.down = true
    await vi.runAllTimersAsync()
    const settled = await outcome
    expect(settled).toMatchObject({ written: 0, rejected: 0, unavailable: 8 })
    expect([...(settled.unavailableSeqs ?? [])].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('a replay whose ledger check finds a middle stretch committed, then no answer: the rest is named, two runs of seqs', () => {
    const h = harness({ initialDelayMs: 100, maxDelayMs: 400, budgetMs: 2000 })
    const attempts = new WriteAttempts(batchOf(1, 8), true, h.context)
    expect(attempts.first().do).toBe('check')
    // An earlier attempt committed 3-4; the rest is inserted.
    const insert = attempts.next({ kind: 'checked', uncommitted: batchOf(1, 8).keep((seq) => seq < 3 || seq > 4) })
    expect(insert.do === 'insert' && seqsOf(insert.batch)).toEqual([1, 2, 5, 6, 7, 8])
    // No answer, and by then the window is spent.
    vi.advanceTimersByTime(3000)
    expect(attempts.next({ kind: 'failed', error: fault('ECONNRESET') })).toEqual({
      do: 'settle',
      outcome: { written: 2, rejected: 0, unavailable: 6, unavailableSeqs: [1, 2, 5, 6, 7, 8] },
    })
  })
})
