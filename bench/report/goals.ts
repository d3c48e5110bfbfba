import { SYSTEM_LABELS, type ScenarioName, type SystemName } from '../bench-spec.js'
import type { MaxRateResult } from '../max-rate.js'
import type { ServiceRow } from '../service.js'
import { SERVICE_LABELS } from '../service-spec.js'
import type { Summary } from './median.js'

export interface Goal {
  name: string
  target: string
  measured: string
  /** null: reported, not judged (or not measured in this run). */
  met: boolean | null
}

function find(summaries: readonly Summary[], scenario: ScenarioName, system: SystemName): Summary | undefined {
  return summaries.find((s) => s.scenario === scenario && s.system === system && s.runs > 0)
}

const x = (v: number): string => `${v.toFixed(2)}×`
const n = (v: number): string => Math.round(v).toLocaleString('en-US')
const ratio = (a: number | null | undefined, b: number | null | undefined): number | undefined => (a == null || b == null || b === 0 ? undefined : a / b)

function judged(name: string, target: string, value: number | undefined, text: (v: number) => string, ok: (v: number) => boolean): Goal {
  return { name, target, measured: value === undefined ? 'not measured' : text(value), met: value === undefined ? null : ok(value) }
}

/** Issue 14: the worker's throughput against the unindexed 5000-row COPY ceiling, and the sustained rate. */
function throughputGoals(summaries: readonly Summary[], burstRecords: number, maxRate: MaxRateResult | undefined): Goal[] {
  const ceiling = find(summaries, 'burst', 'copy-5000')
  const goals: Goal[] = []
  for (const system of ['create-sluice-big', 'pino-sluice-big', 'pino-sluice-sync-big'] as const) {
    const run = find(summaries, 'burst', system)
    const vs = ratio(run?.values.rowsPerSec, ceiling?.values.rowsPerSec)
    goals.push(judged(`burst into a channel that holds it, rows/s vs the ceiling [${SYSTEM_LABELS[system]}]`, '≥ 0.80×', vs, (v) => `${x(v)} (${n(run?.values.rowsPerSec ?? 0)} vs ${n(ceiling?.values.rowsPerSec ?? 0)} rows/s)`, (v) => v >= 0.8))
  }
  goals.push(
    maxRate === undefined
      ? { name: 'highest sustained rate with 0 drops, defaults', target: '≥ 100,000 rec/s', measured: 'not measured', met: null }
      : {
          name: `highest sustained rate with 0 drops, defaults [${SYSTEM_LABELS[maxRate.system]}]`,
          target: '≥ 100,000 rec/s',
          measured: maxRate.highest > 0 ? `${n(maxRate.highest)} rec/s (steps of ${maxRate.stepSeconds} s)` : 'lost records at the first step',
          met: maxRate.highest >= 100_000,
        },
  )
  const defaults = find(summaries, 'burst', 'create-sluice')
  if (defaults) {
    const share = defaults.values.written / burstRecords
    goals.push(
      judged(
        `share of the ${n(burstRecords)}-record tight-loop burst the database gets, defaults [${SYSTEM_LABELS['create-sluice']}]`,
        '≥ 40%',
        share,
        (v) => `${(v * 100).toFixed(1)}% (${n(defaults.values.written)} written, ${n(defaults.values.dropped)} dropped)`,
        (v) => v >= 0.4,
      ),
    )
  }
  return goals
}

/** Issue 13: what createSluice costs the app thread, against pino writing to a no-op destination. */
function appThreadGoals(summaries: readonly Summary[], burstRecords: number): Goal[] {
  const floor = find(summaries, 'burst', 'pino-noop')
  const sluice = find(summaries, 'burst', 'create-sluice')
  const goals: Goal[] = []
  const who = `[${SYSTEM_LABELS['create-sluice']}, ${n(burstRecords)} burst]`
  goals.push(judged(`app-thread ns/call vs the no-op floor ${who}`, '≤ 1.15×', ratio(sluice?.nsPerCall, floor?.nsPerCall), (v) => `${x(v)} (${n(sluice?.nsPerCall ?? 0)} vs ${n(floor?.nsPerCall ?? 0)} ns)`, (v) => v <= 1.15))
  const extra = sluice && floor ? sluice.values.rssGrowthMB - floor.values.rssGrowthMB : undefined
  goals.push(judged(`app RSS growth above the no-op floor's ${who}`, '≤ +16 MB', extra, (v) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} MB (${sluice?.values.rssGrowthMB.toFixed(1)} vs ${floor?.values.rssGrowthMB.toFixed(1)} MB)`, (v) => v <= 16))
  goals.push(judged(`unaccounted records ${who}`, '0', sluice?.unaccountedMax ?? undefined, (v) => String(v), (v) => v === 0))
  goals.push(judged(`drain after the last call ${who}`, '< 5 s', sluice?.values.drainMs, (v) => `${(v / 1000).toFixed(2)} s`, (v) => v < 5000))
  const sustained = find(summaries, 'sustained', 'create-sluice')
  goals.push(judged(`sustained scenario: dropped [${SYSTEM_LABELS['create-sluice']}]`, '0', sustained?.values.dropped, (v) => n(v), (v) => v === 0))
  for (const scenario of ['startup-exit', 'startup-natural'] as const) {
    for (const system of ['create-sluice', 'pino-sluice'] as const) {
      const run = find(summaries, scenario, system)
      if (!run) continue
      const how = scenario === 'startup-exit' ? 'then process.exit(0)' : 'then the app ends on its own'
      goals.push({ name: `burst at startup, ${n(run.values.emitted)} lines before the worker connected, ${how} [${SYSTEM_LABELS[system]}]`, target: 'reported', measured: `${n(run.values.written)} in the database, ${n(run.values.dropped)} dropped`, met: null })
    }
  }
  return goals
}

/**
 * Issue 25, item 5: the database's share. In a burst that fits (every record
 * committed, so per record = per row), the app process's CPU per row (its
 * thread and the worker) against the Postgres server's: once the app side
 * costs less, the server is the limit and a faster pipeline gains nothing.
 */
export function serverShareGoals(summaries: readonly Summary[]): Goal[] {
  const goals: Goal[] = []
  for (const system of ['create-sluice-big', 'pino-sluice-big', 'pino-sluice-sync-big'] as const) {
    const run = find(summaries, 'burst', system)
    if (!run) continue
    const { appThreadUsPerRecord: app, otherThreadsUsPerRecord: worker, serverUsPerRow: server, dropped } = run.values
    const name = `CPU per row, app process vs the Postgres server, burst that fits [${SYSTEM_LABELS[system]}]`
    if (![app, worker, server].every(Number.isFinite) || dropped > 0) {
      goals.push({ name, target: 'reported', measured: dropped > 0 ? `not comparable: ${n(dropped)} dropped` : 'not measured', met: null })
      continue
    }
    const appSide = app + worker
    const verdict = appSide < server ? 'the server is the limit' : `the app side is the limit (${x(appSide / server)} the server's)`
    goals.push({ name, target: 'reported', measured: `${appSide.toFixed(1)} µs (app thread ${app.toFixed(1)} + worker and helpers ${worker.toFixed(1)}) vs Postgres ${server.toFixed(1)} µs: ${verdict}`, met: null })
  }
  return goals
}

/** Issue 25: the app process's CPU per record of a burst that fits (createSluice), against the no-op floor's in the same scenario. */
function cpuPerRecordGoal(summaries: readonly Summary[]): Goal {
  const perRecord = (system: SystemName): number | undefined => {
    const run = find(summaries, 'burst', system)
    const us = run && run.values.dropped === 0 ? run.values.appThreadUsPerRecord + run.values.otherThreadsUsPerRecord : Number.NaN
    return Number.isFinite(us) && us > 0 ? us : undefined
  }
  const sluice = perRecord('create-sluice-big')
  const floor = perRecord('pino-noop')
  const name = `app-process CPU per record vs the no-op floor's, burst that fits [${SYSTEM_LABELS['create-sluice-big']}]`
  return judged(name, '≤ 3×', ratio(sluice, floor), (v) => `${x(v)} (${sluice?.toFixed(1)} vs ${floor?.toFixed(1)} µs)`, (v) => v <= 3)
}

/**
 * Issue 25: the service scenario against `pino/file` → /dev/null (and the
 * no-op destination, the steadier comparison: `pino/file` itself moves
 * between runs), from the service table's medians.
 */
export function serviceGoals(rows: readonly ServiceRow[]): Goal[] {
  const row = (system: keyof typeof SERVICE_LABELS): ServiceRow | undefined => rows.find((r) => r.name === SERVICE_LABELS[system] && Number.isFinite(r.reqPerSec))
  const file = row('pino-file')
  const noop = row('pino-noop')
  const goals: Goal[] = []
  for (const system of ['create-sluice', 'pino-sluice'] as const) {
    const sluice = row(system)
    const vsNoop = ratio(sluice?.reqPerSec, noop?.reqPerSec)
    const noopText = vsNoop === undefined ? '' : `; ${x(vsNoop)} the no-op`
    goals.push(judged(`service: req/s vs pino/file's [${SERVICE_LABELS[system]}]`, '≥ 1.00×', ratio(sluice?.reqPerSec, file?.reqPerSec), (v) => `${x(v)} (${n(sluice?.reqPerSec ?? 0)} vs ${n(file?.reqPerSec ?? 0)}${noopText})`, (v) => v >= 1))
  }
  const sluice = row('create-sluice')
  goals.push(judged(`service: p99 vs pino/file's [${SERVICE_LABELS['create-sluice']}]`, '≤ 1.00×', ratio(sluice?.p99Ms, file?.p99Ms), (v) => `${x(v)} (${sluice?.p99Ms} vs ${file?.p99Ms} ms)`, (v) => v <= 1))
  const sleeps = ratio(sluice?.workerSleepsPerLine, file?.workerSleepsPerLine)
  goals.push(judged(`service: worker sleeps per line vs thread-stream's [${SERVICE_LABELS['create-sluice']}]`, '≤ 1.00×', sleeps, (v) => `${x(v)} (${sluice?.workerSleepsPerLine?.toFixed(3)} vs ${file?.workerSleepsPerLine?.toFixed(3)})`, (v) => v <= 1))
  return goals
}

/** The goals of issues 13, 14 and 25, judged on medians of this run. */
export function judgeGoals(summaries: readonly Summary[], burstRecords: number, maxRate?: MaxRateResult, service?: readonly ServiceRow[]): Goal[] {
  return [...throughputGoals(summaries, burstRecords, maxRate), ...appThreadGoals(summaries, burstRecords), ...serverShareGoals(summaries), cpuPerRecordGoal(summaries), ...(service ? serviceGoals(service) : [])]
}
