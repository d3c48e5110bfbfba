/**
 * The disk spool against Postgres, side by side in one run (issue 24 goals):
 *
 * - ceiling: the unindexed 5000-row COPY (bench/systems/copy-batches.ts),
 *   rows per second; the replay is held to 0.8x of it.
 * - replay: a spool left by an earlier process (N records in frames of
 *   2048, as batches the store could not take) recovered and written by a
 *   new createSluice; rows per second from 'ready' to an empty spool.
 * - burst on / off: N records in a tight loop through createSluice with the
 *   spool on and off (defaults otherwise): records kept, dropped, time until
 *   all settled, the app thread's ns per log call and the app's RSS. (With
 *   the spool off most calls meet a full ring, refused without being
 *   encoded: cheaper calls, for records that are dropped.)
 * - steady on / off: the same records at 50,000 a second, which both keep
 *   in full: the app thread's ns per log call and RSS, like for like.
 *
 * Each part runs in a child process of its own (a clean RSS); its table is
 * dropped after it (the bench's Postgres stays small). `npm run bench` runs
 * these parts in its spool section (spool-section.ts) on the bench's
 * Postgres. Standalone, run alone (Postgres: DATABASE_URL, or an embedded one
 * started here):
 * `node dist/bench/spool-burst.js [burstRecords] [replayRecords] [repeats] [parts,...]`.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { createSluice } from '../src/index.js'
import { Spool } from '../src/spool/spool.js'
import { benchSql, countAndDrop, prepareTable } from './bench-database.js'
import { logArgs } from './bench-record.js'
import { nowMs, type AppSpec } from './bench-spec.js'
import { median } from './report/median.js'
import { runCopyBatches } from './systems/copy-batches.js'

const SELF = fileURLToPath(import.meta.url)

export const PARTS = ['ceiling', 'replay', 'burst-off', 'burst-on', 'steady-off', 'steady-on'] as const
export type Part = (typeof PARTS)[number]
/** The steady parts: records per second, logged in 10 ms ticks (a rate both keep in full). */
export const STEADY_RATE = 50_000
export type Figures = Record<string, number>
/** Longest one part may take before its child is killed and the part reported as failed. */
const PART_TIMEOUT_MS = 300_000

interface Sluice {
  readonly transport: NodeJS.EventEmitter
  readonly stats: { read(): Record<string, number> }
  flush(): Promise<Record<string, number>>
  close(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function settled(s: Record<string, number>): boolean {
  return (s.spool_records ?? 0) === 0 && (s.received ?? 0) + (s.recovered ?? 0) === (s.written ?? 0) + (s.dropped ?? 0) + (s.failed ?? 0)
}

async function untilSettled(sluice: Sluice): Promise<void> {
  const until = Date.now() + 300_000
  while (!settled(await sluice.flush()) && Date.now() < until) await sleep(20)
}

function open(url: string, table: string, dir: string | undefined): Sluice {
  return createSluice({ postgres: { url, table, connectTimeoutMs: 10_000 }, ...(dir ? { spool: { dir, maxBytes: 4 * 1024 ** 3 } } : {}) }) as unknown as Sluice
}

async function ready(sluice: Sluice): Promise<void> {
  await new Promise((resolve) => sluice.transport.once('ready', resolve))
}

/** pino-sluice's table made before the measurement, as the main bench does: no part pays for DDL. */
async function createTable(url: string, table: string): Promise<void> {
  const sql = benchSql(url)
  await prepareTable(sql, 'create-sluice', 'burst', table, 0)
  await sql.end()
}

/** Rows the records became, counted after the measurement; then the table goes. */
async function rowsAndDrop(url: string, table: string): Promise<number> {
  const sql = benchSql(url)
  try {
    return await countAndDrop(sql, 'create-sluice', table)
  } finally {
    await sql.end()
  }
}

/** The COPY ceiling, rows per second. */
async function ceiling(url: string, records: number): Promise<Figures> {
  const table = `spool_ceiling_${process.pid}`
  const sql = benchSql(url)
  await prepareTable(sql, 'copy-5000', 'burst', table, 0)
  const result = await runCopyBatches({ system: 'copy-5000', scenario: 'burst', emission: { records }, databaseUrl: url, table, resultFile: '', sluiceOptions: {} } as unknown as AppSpec)
  await sql`drop table ${sql(table)}`
  await sql.end()
  return { rowsPerSec: Math.round(records / (((result.doneMs ?? result.lastCallMs) - result.firstCallMs) / 1000)) }
}

/** A spool as an earlier process leaves it, then a new process replays it: rows per second. */
async function replay(url: string, records: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-spool-replay-'))
  const lines: string[] = []
  const logger = pino({}, { write: (line: string) => void lines.push(line.slice(0, -1)) })
  for (let i = 0; i < records; i++) logger.info(...logArgs(i))
  const earlier = Spool.open({ dir, maxBytes: 4 * 1024 ** 3 }, () => {})
  for (let at = 0; at < records; at += 2048) earlier.append(`bench:${process.pid}:00`, at + 1, lines.slice(at, at + 2048))
  // Closed with records left: released for the next process to take over.
  earlier.close()
  const table = `spool_replay_${process.pid}`
  await createTable(url, table)
  const sluice = open(url, table, dir)
  await ready(sluice)
  const start = nowMs()
  while (!settled(sluice.stats.read()) || (sluice.stats.read().recovered ?? 0) === 0) await sleep(10)
  const seconds = (nowMs() - start) / 1000
  const s = sluice.stats.read()
  await sluice.close()
  rmSync(dir, { recursive: true, force: true })
  return { rowsPerSec: Math.round(records / seconds), recovered: s.recovered ?? 0, written: s.written ?? 0, rows: await rowsAndDrop(url, table) }
}

/** A tight-loop burst (or a steady rate) through createSluice, spool on or off. */
async function burst(url: string, records: number, spool: boolean, rate?: number): Promise<Figures> {
  const dir = spool ? mkdtempSync(join(tmpdir(), 'sluice-spool-burst-')) : undefined
  const table = `spool_burst_${process.pid}`
  await createTable(url, table)
  const sluice = open(url, table, dir)
  const log = pino(sluice.transport as never)
  await ready(sluice)
  const rssBefore = process.memoryUsage().rss
  let inCalls = 0n
  if (rate === undefined) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < records; i++) log.info(...logArgs(i))
    inCalls = process.hrtime.bigint() - start
  } else {
    const perTick = Math.ceil(rate / 100)
    for (let i = 0; i < records; ) {
      const start = process.hrtime.bigint()
      for (const end = Math.min(records, i + perTick); i < end; i++) log.info(...logArgs(i))
      inCalls += process.hrtime.bigint() - start
      await sleep(10)
    }
  }
  const callNs = Number(inCalls) / records
  const rssAfterLoop = process.memoryUsage().rss
  const loggedAt = nowMs()
  await untilSettled(sluice)
  const settleSeconds = (nowMs() - loggedAt) / 1000
  const s = sluice.stats.read()
  await sluice.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  const rows = await rowsAndDrop(url, table)
  return {
    records,
    rows,
    // Neither a row nor counted anywhere: the figure a burst is judged by is records - rows.
    lost: records - rows,
    kept: Math.round(((s.written ?? 0) / records) * 1000) / 1000,
    written: s.written ?? 0,
    dropped: s.dropped ?? 0,
    spooled: s.spooled ?? 0,
    settleSeconds: Math.round(settleSeconds * 10) / 10,
    callNs: Math.round(callNs),
    rssMB: Math.round(Math.max(rssAfterLoop, process.memoryUsage().rss) / 1e5) / 10,
    rssGrowthMB: Math.round((Math.max(rssAfterLoop, process.memoryUsage().rss) - rssBefore) / 1e5) / 10,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1e2) / 10,
  }
}

async function child(part: Part, url: string, records: number): Promise<Figures> {
  if (part === 'ceiling') return ceiling(url, records)
  if (part === 'replay') return replay(url, records)
  return burst(url, records, part.endsWith('-on'), part.startsWith('steady') ? STEADY_RATE : undefined)
}

/** A bench script run in a child process of its own: the figures it prints (one JSON line), or the error it died with. */
export async function figuresFromChild(args: readonly string[]): Promise<Figures | { error: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8', timeout: PART_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(JSON.parse(stdout) as Figures)
      const last = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300)
      resolve({ error: `${error.killed ? `killed after ${PART_TIMEOUT_MS / 1000} s` : error.message.split('\n')[0]}${last ? `: ${last}` : ''}` })
    })
  })
}

/** One part in a child process of its own: its figures, or the error it died with. */
export function runPart(part: Part, url: string, records: number): Promise<Figures | { error: string }> {
  return figuresFromChild([SELF, 'child', part, url, String(records)])
}

/** One entry of a round: a part at a size, run in the first `rounds` rounds only (all when absent). */
export interface PartRun {
  name: string
  part: Part
  records: number
  rounds?: number
}

/**
 * Every entry, round after round, each round visiting every entry (so that a
 * noisy neighbour hits them all alike); figures per entry name, one per
 * round, failed runs as errors. `progress` hears of each run as it ends.
 */
export async function runRounds(url: string, entries: readonly PartRun[], repeats: number, progress: (entry: PartRun, round: number, result: Figures | { error: string }, ms: number) => void = () => {}): Promise<Record<string, (Figures | { error: string })[]>> {
  const results: Record<string, (Figures | { error: string })[]> = Object.fromEntries(entries.map((e) => [e.name, []]))
  for (let round = 0; round < repeats; round++) {
    for (const entry of entries) {
      if (round >= (entry.rounds ?? repeats)) continue
      const started = Date.now()
      const result = await runPart(entry.part, url, entry.records)
      results[entry.name]?.push(result)
      progress(entry, round, result, Date.now() - started)
    }
  }
  return results
}

export interface SpoolBurstOptions {
  burstRecords: number
  replayRecords: number
  repeats: number
  parts?: readonly Part[]
  /** Postgres to use; absent: DATABASE_URL, or an embedded one started for the run. */
  url?: string
}

export async function runSpoolBurst(options: SpoolBurstOptions): Promise<Record<string, unknown>> {
  const { burstRecords, replayRecords, repeats, parts = PARTS } = options
  const given = options.url ?? process.env.DATABASE_URL
  const server = given ? undefined : await startLocalPostgres()
  const url = given ?? (server?.url as string)
  try {
    const entries = parts.map((part) => ({ name: part, part, records: part === 'ceiling' || part === 'replay' ? replayRecords : part.startsWith('steady') ? Math.min(burstRecords, 200_000) : burstRecords }))
    const all = await runRounds(url, entries, repeats)
    const runs = Object.fromEntries(PARTS.map((part) => [part, (all[part] ?? []).filter((r): r is Figures => !('error' in r))])) as Record<Part, Figures[]>
    const errors = Object.values(all).flat().filter((r) => 'error' in r)
    const pick = (part: Part, key: string): number[] => runs[part].map((r) => r[key] as number)
    const ratio = (on: number[], off: number[]): number => Math.round((median(on) / median(off)) * 100) / 100
    const ratios = runs.replay.map((r, i) => (r.rowsPerSec as number) / (runs.ceiling[i]?.rowsPerSec as number))
    return {
      ...(errors.length > 0 && { errors }),
      ...(ratios.length > 0 && {
        ceilingRowsPerSec: median(pick('ceiling', 'rowsPerSec')),
        replayRowsPerSec: median(pick('replay', 'rowsPerSec')),
        replayVsCeiling: Math.round(median(ratios) * 100) / 100,
        replayVsCeilingEach: ratios.map((r) => Math.round(r * 100) / 100),
      }),
      ...(runs['burst-on'].length > 0 && {
        burstOn: runs['burst-on'],
        burstOff: runs['burst-off'],
        burstCallNsOnVsOff: ratio(pick('burst-on', 'callNs'), pick('burst-off', 'callNs')),
        burstMaxRssMBOnOff: [median(pick('burst-on', 'maxRssMB')), median(pick('burst-off', 'maxRssMB'))],
      }),
      ...(runs['steady-on'].length > 0 && {
        steadyOn: runs['steady-on'],
        steadyOff: runs['steady-off'],
        steadyCallNsOnVsOff: ratio(pick('steady-on', 'callNs'), pick('steady-off', 'callNs')),
        steadyMaxRssMBOnOff: [median(pick('steady-on', 'maxRssMB')), median(pick('steady-off', 'maxRssMB'))],
      }),
    }
  } finally {
    await server?.stop()
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === SELF) {
  if (process.argv[2] === 'child') {
    const figures = await child(process.argv[3] as Part, process.argv[4] as string, Number(process.argv[5]))
    process.stdout.write(`${JSON.stringify(figures)}\n`)
  } else {
    const parts = process.argv[5] ? (process.argv[5].split(',') as Part[]) : PARTS
    const figures = await runSpoolBurst({ burstRecords: Number(process.argv[2] ?? 1_000_000), replayRecords: Number(process.argv[3] ?? 200_000), repeats: Number(process.argv[4] ?? 3), parts })
    process.stdout.write(`${JSON.stringify(figures)}\n`)
  }
}
