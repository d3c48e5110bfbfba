import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

/**
 * Where the worker's time goes during a burst, for `bench/profile-burst.ts`.
 * Off unless `PINO_SLUICE_PROFILE` names a file, read once when the module
 * loads; when off `workerProfile` is undefined and every call site is one
 * optional-chaining check, so the normal path pays nothing measurable.
 *
 * All times are milliseconds of wall clock in the worker thread. Batches run
 * side by side (several in flight), so per-batch spans such as `copy` can add
 * up to more than the elapsed time; `busy`/`idle` come from the event loop.
 */
export interface WorkerProfileReport {
  elapsedMs: number
  batches: number
  records: number
  /** Splitting chunks into lines and queuing them (the transport's write). */
  readMs: number
  /** JSON.parse + sanitize check of each line (Pipeline.writeBatch). */
  parseMs: number
  /** S3 offload / CloudWatch stages. */
  stagesMs: number
  /** Records to rows and rows to COPY text. */
  encodeMs: number
  /** From the end of encoding until the transaction's COPY started: waiting for a connection, BEGIN, SET. */
  waitBeforeCopyMs: number
  /** COPY data sent until the server confirmed it. */
  copyMs: number
  /** COPY done until COMMIT acknowledged. */
  commitMs: number
  /** Event loop idle while lines sat queued in the channel. */
  idleWhileQueuedMs: number
  /** Event loop idle in all. */
  idleMs: number
  /** Event loop busy (JS, GC, I/O callbacks). */
  busyMs: number
  /** Time with at least one transaction open: the database side of the pipeline is busy. */
  txOpenMs: number
  /** From the first line to the first transaction (connecting, migrating, the first batch becoming due). */
  firstTxAtMs: number
  /** From the first line to the last commit. */
  lastCommitAtMs: number
  /** Largest batch seen (records). */
  maxBatch: number
  /** Most batches in flight at once. */
  maxInFlight: number
  /** Page faults the worker thread took from the first line to the report (Linux only): a fresh page can cost more than a record's parsing. */
  minorFaults: number | undefined
}

/**
 * Minor page faults of the calling thread so far, from /proc/thread-self/stat
 * (Linux only; undefined elsewhere): each is a page of memory touched for the
 * first time, which on a virtual machine can cost tens of µs.
 */
export function threadMinorFaults(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    // The fields after the command name (which may hold spaces): state is field 3, minflt field 10.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
  } catch {
    return undefined
  }
}

type Counted = 'readMs' | 'parseMs' | 'stagesMs' | 'encodeMs' | 'waitBeforeCopyMs' | 'copyMs' | 'commitMs'

const SAMPLE_MS = 2

export class WorkerProfile {
  private readonly totals: Record<Counted, number> = { readMs: 0, parseMs: 0, stagesMs: 0, encodeMs: 0, waitBeforeCopyMs: 0, copyMs: 0, commitMs: 0 }
  private started = 0
  private batches = 0
  private records = 0
  private maxBatch = 0
  private inFlight = 0
  private maxInFlight = 0
  private idleWhileQueued = 0
  private openTx = 0
  private txOpenedAt = 0
  private txOpen = 0
  private firstTxAt = 0
  private lastCommitAt = 0
  private sampler: NodeJS.Timeout | undefined
  private lastElu = performance.eventLoopUtilization()
  private firstElu = this.lastElu
  private faultsAtStart: number | undefined

  constructor(private readonly file: string) {}

  readonly now = (): number => performance.now()

  /** Starts the clock and the event-loop sampler at the first line; `queued` says whether lines wait in the channel. */
  begin(queued: () => number): void {
    if (this.started > 0) return
    this.started = performance.now()
    this.faultsAtStart = threadMinorFaults()
    this.firstElu = this.lastElu = performance.eventLoopUtilization()
    this.sampler = setInterval(() => {
      const elu = performance.eventLoopUtilization()
      const delta = performance.eventLoopUtilization(elu, this.lastElu)
      this.lastElu = elu
      if (queued() > 0) this.idleWhileQueued += delta.idle
    }, SAMPLE_MS)
    this.sampler.unref()
  }

  add(what: Counted, since: number): number {
    const now = performance.now()
    this.totals[what] += now - since
    return now
  }

  batchStarted(records: number): void {
    this.batches++
    this.records += records
    if (records > this.maxBatch) this.maxBatch = records
    this.inFlight++
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight
  }

  txStarted(): void {
    const now = performance.now()
    if (this.firstTxAt === 0) this.firstTxAt = now
    if (this.openTx++ === 0) this.txOpenedAt = now
  }

  txEnded(): void {
    const now = performance.now()
    this.lastCommitAt = now
    if (--this.openTx === 0) this.txOpen += now - this.txOpenedAt
  }

  batchEnded(): void {
    this.inFlight--
  }

  report(): WorkerProfileReport {
    const elu = performance.eventLoopUtilization(performance.eventLoopUtilization(), this.firstElu)
    const faults = threadMinorFaults()
    return {
      elapsedMs: this.started > 0 ? performance.now() - this.started : 0,
      batches: this.batches,
      records: this.records,
      ...this.totals,
      idleWhileQueuedMs: this.idleWhileQueued,
      idleMs: elu.idle,
      busyMs: elu.active,
      txOpenMs: this.txOpen,
      firstTxAtMs: this.firstTxAt > 0 ? this.firstTxAt - this.started : 0,
      lastCommitAtMs: this.lastCommitAt > 0 ? this.lastCommitAt - this.started : 0,
      maxBatch: this.maxBatch,
      maxInFlight: this.maxInFlight,
      minorFaults: faults === undefined || this.faultsAtStart === undefined ? undefined : faults - this.faultsAtStart,
    }
  }

  /** Written when the pipeline closes (or when asked by a flush), as JSON. */
  write(): void {
    clearInterval(this.sampler)
    writeFileSync(this.file, `${JSON.stringify(this.report())}\n`)
  }
}

const file = process.env.PINO_SLUICE_PROFILE
export const workerProfile: WorkerProfile | undefined = file ? new WorkerProfile(file) : undefined
