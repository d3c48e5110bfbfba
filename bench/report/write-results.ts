import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCENARIOS, SYSTEMS, SYSTEM_LABELS } from '../bench-spec.js'
import type { BenchConfig } from '../bench-config.js'
import type { MaxRateResult } from '../max-rate.js'
import type { MicroResult } from '../micro/line-parsing.js'
import type { RunResult } from '../run-one.js'
import type { SpoolResult } from '../spool-section.js'
import { chartSvg } from './chart-svg.js'
import { markdownTable, tableRows } from './format-table.js'
import type { Goal } from './goals.js'
import type { MachineInfo } from './machine.js'
import type { Summary } from './median.js'

export interface BenchReport {
  machine: MachineInfo
  config: BenchConfig
  scenarioTitles: Record<string, string>
  summaries: Summary[]
  goals: Goal[]
  micro: MicroResult | undefined
  /** Absent in results written before the step-up existed. */
  maxRate?: MaxRateResult | undefined
  /** The service scenario's table (bench/service.ts), already in markdown; absent in older results. */
  service?: string | undefined
  /** The spool section (bench/spool-section.ts): every run's figures and its table; absent in older results. */
  spool?: SpoolResult | undefined
  runs: RunResult[]
  durationSec: number
}

export function markdownReport(report: BenchReport): string {
  const { machine, config } = report
  const out: string[] = []
  out.push(`Run ${machine.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}; Node ${machine.node}.`)
  out.push(`Versions: ${Object.entries(machine.versions).map(([k, v]) => `${k} ${v}`).join(', ')}${machine.commit ? `; commit ${machine.commit}` : ''}.`)
  out.push(`Medians of ${config.repeats} repeat(s)${config.quick ? ' (--quick)' : ''}; load average at start ${machine.loadAverageAtStart.join(' ')}; whole run ${Math.round(report.durationSec)} s.`)
  for (const [scenario, title] of Object.entries(report.scenarioTitles)) {
    const rows = report.summaries.filter((s) => s.scenario === scenario)
    if (rows.length === 0) continue
    out.push('', `**${title}**`, '', markdownTable(tableRows(rows)))
  }
  if (report.maxRate) {
    const m = report.maxRate
    out.push('', `**Highest sustained rate with 0 drops** (${SYSTEM_LABELS[m.system]}, defaults, ${m.stepSeconds} s per step): **${m.highest.toLocaleString('en-US')} rec/s**`, '', '| rate | rows/s committed | written | dropped | failed | unaccounted |', '| ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const s of m.steps) out.push(`| ${s.rate.toLocaleString('en-US')} | ${s.error ? `failed: ${s.error.slice(0, 40)}` : Math.round(s.rowsPerSec).toLocaleString('en-US')} | ${s.written.toLocaleString('en-US')} | ${s.dropped.toLocaleString('en-US')} | ${s.failed} | ${s.unaccounted ?? 'n/a'} |`)
  }
  for (const captioned of [report.service, report.spool?.table]) {
    if (!captioned) continue
    const [title, ...table] = captioned.split('\n')
    out.push('', `**${title}**`, '', ...table)
  }
  out.push('', '**Goals**', '', '| goal | target | measured | met |', '| --- | --- | --- | --- |')
  for (const g of report.goals) out.push(`| ${g.name} | ${g.target} | ${g.measured} | ${g.met === null ? '·' : g.met ? '✔' : '✘'} |`)
  if (report.micro) {
    out.push('', `**Worker cost per line** (${report.micro.lines.toLocaleString('en-US')} pino lines in ${report.micro.chunkBytes / 1024} KiB chunks)`, '', '| path | ns/line |', '| --- | ---: |')
    for (const [name, ns] of Object.entries(report.micro.nsPerLine)) out.push(`| ${name} | ${Math.round(ns)} |`)
  }
  out.push('', `Systems: ${Object.values(SYSTEM_LABELS).join('; ')}.`)
  return `${out.join('\n')}\n`
}

/** Writes `<stamp>.json`, `<stamp>.md` and `<stamp>.svg` (a chart) plus `latest.*` into bench/results/. */
export function writeResults(dir: string, report: BenchReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true })
  const { config } = report
  const partial = config.scenarios.length < SCENARIOS.length || config.systems.length < SYSTEMS.length || config.maxRateSteps.length === 0 || !config.micro || !config.service || !config.spool
  const kind = config.quick ? '-quick' : partial ? '-partial' : ''
  const stamp = `${report.machine.date.replace(/[:.]/g, '-').slice(0, 19)}${kind}`
  const json = join(dir, `${stamp}.json`)
  const markdown = join(dir, `${stamp}.md`)
  const md = markdownReport(report)
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(markdown, md)
  writeFileSync(join(dir, `latest${kind}.md`), md)
  const svg = chartSvg(report)
  writeFileSync(join(dir, `${stamp}.svg`), svg)
  writeFileSync(join(dir, `latest${kind}.svg`), svg)
  return { json, markdown }
}
