/**
 * The spool section of `npm run bench` (issue 24): the disk spool's
 * scenarios, each beside its baseline in the same round, on the run's
 * Postgres.
 *
 *   spool-section.ts ──► rounds of spool-burst.ts parts, one child process each:
 *      │     COPY ceiling, replay, burst off/on, big burst off/on (first round only), steady off/on
 *      ├──► then spool-spill.js in a child: ring spill vs a plain write of the same bytes
 *      └──► medians ─► one table (console and results) + goals
 *
 * Bursts are judged by rows in the table (records - rows = lost), not by the
 * sluice's own counters.
 */
import { fileURLToPath } from 'node:url'
import type { BenchConfig } from './bench-config.js'
import type { Goal } from './report/goals.js'
import { median } from './report/median.js'
import { STEADY_RATE, figuresFromChild, runRounds, type Figures, type PartRun } from './spool-burst.js'

const SPILL = fileURLToPath(new URL('./spool-spill.js', import.meta.url))

export interface SpoolSizes {
  burst: number
  bigBurst: number
  /** Rounds the big burst runs in (the first ones): it takes the longest. */
  bigBurstRounds: number
  steady: number
  replay: number
  spillLines: number
  repeats: number
}

export function spoolSizes(config: BenchConfig): SpoolSizes {
  return config.quick
    ? { burst: 100_000, bigBurst: 300_000, bigBurstRounds: 1, steady: 50_000, replay: 50_000, spillLines: 200_000, repeats: config.repeats }
    : { burst: 300_000, bigBurst: 1_000_000, bigBurstRounds: 1, steady: 200_000, replay: 200_000, spillLines: 1_000_000, repeats: config.repeats }
}

type Failed = { error: string }
type Run = Figures | Failed
const failed = (run: Run): run is Failed => typeof run.error === 'string'

export interface SpoolResult {
  sizes: SpoolSizes
  /** Every run's figures per entry (burst-on, big-burst-off, ...), one per round. */
  runs: Record<string, Run[]>
  spill: Run
  seconds: number
  /** Caption line, then a Markdown table. */
  table: string
  goals: Goal[]
}

const n = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : Math.round(v).toLocaleString('en-US'))
const x = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`)
const ok = (runs: readonly Run[] | undefined): Figures[] => (runs ?? []).filter((r): r is Figures => !failed(r))
const med = (runs: readonly Run[] | undefined, key: string): number | undefined => {
  const values = ok(runs).map((r) => r[key]).filter((v): v is number => v !== undefined)
  return values.length > 0 ? median(values) : undefined
}

function entries(sizes: SpoolSizes): PartRun[] {
  return [
    { name: 'ceiling', part: 'ceiling', records: sizes.replay },
    { name: 'replay', part: 'replay', records: sizes.replay },
    { name: 'burst-off', part: 'burst-off', records: sizes.burst },
    { name: 'burst-on', part: 'burst-on', records: sizes.burst },
    { name: 'big-burst-off', part: 'burst-off', records: sizes.bigBurst, rounds: sizes.bigBurstRounds },
    { name: 'big-burst-on', part: 'burst-on', records: sizes.bigBurst, rounds: sizes.bigBurstRounds },
    { name: 'steady-off', part: 'steady-off', records: sizes.steady },
    { name: 'steady-on', part: 'steady-on', records: sizes.steady },
  ]
}

function progressLine(result: Run): string {
  if (failed(result)) return `FAILED: ${result.error}`
  if (result.lost === undefined) return `${n(result.rowsPerSec)} rows/s`
  return `written ${n(result.rows)}, dropped ${n(result.dropped)}, spooled ${n(result.spooled)}, lost ${n(result.lost)}, settled in ${result.settleSeconds} s, ${n(result.callNs)} ns/call, peak RSS ${result.maxRssMB} MB`
}

function spillInChild(lines: number): Promise<Run> {
  return figuresFromChild([SPILL, String(lines)])
}

/** Medians of the replay's per-round ratio to the ceiling measured in the same round. */
function replayVsCeiling(runs: Record<string, Run[]>): number | undefined {
  const ceilings = runs.ceiling ?? []
  const ratios = (runs.replay ?? []).flatMap((r, i) => {
    const c = ceilings[i]
    return failed(r) || !c || failed(c) ? [] : [(r.rowsPerSec as number) / (c.rowsPerSec as number)]
  })
  return ratios.length > 0 ? median(ratios) : undefined
}

function table(result: Omit<SpoolResult, 'table' | 'goals'>): string {
  const { sizes, runs, spill } = result
  const rows: string[][] = []
  const burstRow = (label: string, name: string, baseline?: string): void => {
    const r = runs[name]
    const failedRuns = (r ?? []).length - ok(r).length
    const worstLost = ok(r).length > 0 ? Math.max(...ok(r).map((f) => f.lost as number)) : undefined
    const vs = baseline ? (med(r, 'callNs') ?? NaN) / (med(runs[baseline], 'callNs') ?? NaN) : undefined
    rows.push([`${label}${failedRuns > 0 ? ` (${failedRuns} failed)` : ''}`, n(med(r, 'rows')), n(med(r, 'dropped')), n(med(r, 'spooled')), n(worstLost), med(r, 'settleSeconds')?.toFixed(1) ?? '—', n(med(r, 'callNs')), baseline ? x(vs) : '—', med(r, 'maxRssMB')?.toFixed(0) ?? '—', '—'])
  }
  burstRow(`burst ${n(sizes.burst)}, spool off`, 'burst-off')
  burstRow(`burst ${n(sizes.burst)}, spool on`, 'burst-on', 'burst-off')
  burstRow(`burst ${n(sizes.bigBurst)}, spool off`, 'big-burst-off')
  burstRow(`burst ${n(sizes.bigBurst)}, spool on`, 'big-burst-on', 'big-burst-off')
  burstRow(`steady ${n(STEADY_RATE)}/s, spool off`, 'steady-off')
  burstRow(`steady ${n(STEADY_RATE)}/s, spool on`, 'steady-on', 'steady-off')
  const rate = (label: string, value: string, vs: string): void => void rows.push([label, '', '', '', '', '', '', vs, '', value])
  rate(`unindexed 5000-row COPY ceiling, ${n(sizes.replay)} rows`, `${n(med(runs.ceiling, 'rowsPerSec'))} rows/s`, '—')
  rate(`replay of ${n(sizes.replay)} recovered records`, `${n(med(runs.replay, 'rowsPerSec'))} rows/s`, x(replayVsCeiling(runs)))
  if (failed(spill)) rows.push([`spill of ${n(sizes.spillLines)} lines: failed: ${spill.error.slice(0, 60)}`, '', '', '', '', '', '', '', '', ''])
  else {
    rate(`plain sequential write of ${spill.mb} MB, one fsync`, `${spill.plainMBps} MB/s`, '—')
    rate(`ring spill of the same ${n(spill.lines)} lines, one fsync`, `${spill.ringSpillMBps} MB/s`, x(spill.ringSpillVsPlain))
  }
  const header = ['spool scenario (createSluice, defaults)', 'written', 'dropped', 'spooled', 'lost (worst)', 'settle s', 'app ns/call', '× baseline', 'peak RSS MB', 'rate']
  const caption = `Spool: ${n(sizes.burst)}- and ${n(sizes.bigBurst)}-record tight-loop bursts (the latter ${sizes.bigBurstRounds} round), ${n(sizes.steady)} records at ${n(STEADY_RATE)}/s, replay of ${n(sizes.replay)}, spill of ${n(sizes.spillLines)} lines; medians of ${sizes.repeats}; × baseline: ns/call vs spool off, rate vs the ceiling or the plain write (${Math.round(result.seconds)} s)`
  return [caption, `| ${header.join(' | ')} |`, `| --- |${' ---: |'.repeat(header.length - 1)}`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

function judged(name: string, target: string, value: number | undefined, text: (v: number) => string, met: (v: number) => boolean): Goal {
  return { name, target, measured: value === undefined || Number.isNaN(value) ? 'not measured' : text(value), met: value === undefined || Number.isNaN(value) ? null : met(value) }
}

function goals(result: Omit<SpoolResult, 'table' | 'goals'>): Goal[] {
  const { sizes, runs, spill } = result
  const lostGoal = (records: number, on: string, off: string): Goal => {
    const onRuns = ok(runs[on])
    const worst = onRuns.length > 0 ? Math.max(...onRuns.map((f) => f.lost as number)) : undefined
    return judged(`${n(records)}-record tight-loop burst, defaults, spool on: lost`, '0', worst, (v) => `${n(v)} (worst of ${onRuns.length}; ${n(med(runs[on], 'rows'))} written, ${n(med(runs[on], 'spooled'))} spooled; spool off: ${n(med(runs[off], 'lost'))} lost)`, (v) => v === 0)
  }
  const onVsOff = (key: string, what: string, unit: string): Goal => {
    const on = med(runs['steady-on'], key)
    const off = med(runs['steady-off'], key)
    return judged(`steady ${n(STEADY_RATE)}/s, ${what}, spool on vs off`, '≤ 1.00×', on !== undefined && off ? on / off : undefined, (v) => `${x(v)} (${n(on)} vs ${n(off)} ${unit}, medians of ${ok(runs['steady-on']).length})`, (v) => v <= 1)
  }
  const replay = replayVsCeiling(runs)
  return [
    lostGoal(sizes.burst, 'burst-on', 'burst-off'),
    lostGoal(sizes.bigBurst, 'big-burst-on', 'big-burst-off'),
    onVsOff('callNs', 'app ns per log call', 'ns'),
    onVsOff('maxRssMB', 'app peak RSS', 'MB'),
    judged(`replay of ${n(sizes.replay)} recovered records vs the unindexed 5000-row COPY ceiling`, '≥ 0.80×', replay, (v) => `${x(v)} (${n(med(runs.replay, 'rowsPerSec'))} vs ${n(med(runs.ceiling, 'rowsPerSec'))} rows/s)`, (v) => v >= 0.8),
    failed(spill)
      ? { name: 'ring spill vs a plain sequential write of the same bytes', target: '≥ 0.50×', measured: `failed: ${spill.error.slice(0, 80)}`, met: null }
      : judged(`ring spill of ${n(spill.lines)} lines vs a plain sequential write of the same bytes`, '≥ 0.50×', spill.ringSpillVsPlain, (v) => `${x(v)} (${spill.ringSpillMBps} vs ${spill.plainMBps} MB/s)`, (v) => v >= 0.5),
  ]
}

export async function runSpoolSection(config: BenchConfig, url: string, write: (line: string) => void): Promise<SpoolResult> {
  const started = Date.now()
  const sizes = spoolSizes(config)
  const list = entries(sizes)
  const total = list.reduce((sum, e) => sum + Math.min(e.rounds ?? sizes.repeats, sizes.repeats), 0) + 1
  let done = 0
  const runs = await runRounds(url, list, sizes.repeats, (entry, round, result, ms) => {
    done++
    write(`  [${String(done).padStart(String(total).length)}/${total}] ${entry.name} #${round + 1} (${n(entry.records)} records): ${progressLine(result)} [${(ms / 1000).toFixed(1)} s]\n`)
  })
  const spillStarted = Date.now()
  const spill = await spillInChild(sizes.spillLines)
  write(`  [${total}/${total}] spill (${n(sizes.spillLines)} lines, median of 3): ${failed(spill) ? `FAILED: ${spill.error}` : `ring ${spill.ringSpillMBps} MB/s vs plain ${spill.plainMBps} MB/s`} [${((Date.now() - spillStarted) / 1000).toFixed(1)} s]\n`)
  const measured = { sizes, runs, spill, seconds: (Date.now() - started) / 1000 }
  return { ...measured, table: table(measured), goals: goals(measured) }
}
