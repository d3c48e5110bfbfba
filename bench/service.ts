/**
 * The service scenario (issue 25): what a log line costs a real service, not
 * a tight loop. A Fastify 5 app whose route logs one line per request
 * (service-app.ts, one process per run), driven by autocannon over loopback
 * for a bounded time; the systems are interleaved, repeat by repeat.
 *
 *   service.ts ──► spawn service-app.js (Fastify + the system's logger) ──► listening on 127.0.0.1
 *      ├──► autocannon warm-up (not measured), then 'start' ─► autocannon -c N -d S ─► 'stop'
 *      │        service-app: requests, lines, CPU per thread (/proc/self/task/<tid>/schedstat),
 *      │        worker sleeps (voluntary context switches), doorbells; then flush/close and report
 *      └──► rows in the run's table (nothing lost?), Postgres CPU, medians ─► table with × pino/file
 *
 * Run alone: `node dist/bench/service.js [--seconds 10] [--connections 50] [--repeats 3]
 * [--baseline <dir of an older build>]`; `npm run bench` runs it after the other scenarios.
 */
import { fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { benchSql, countAndDrop, prepareTable, type BenchSql } from './bench-database.js'
import { APP_PARTS, WORKER_PARTS, profileSplit } from './report/cpu-profile-split.js'
import { median } from './report/median.js'
import { serverCpuMs } from './report/server-cpu.js'
import { SERVICE_LABELS, SERVICE_SYSTEMS, type ServiceAppResult, type ServiceAppSpec, type ServiceSystem, type ServiceToParent } from './service-spec.js'

const SERVICE_APP = fileURLToPath(new URL('./service-app.js', import.meta.url))
const THIS_BUILD = new URL('../src/index.js', import.meta.url).href

export interface ServiceConfig {
  seconds: number
  connections: number
  /** Requests per second offered in all (autocannon overallRate); undefined: as fast as the app answers. */
  rate: number | undefined
  repeats: number
  warmUpSeconds: number
  /** Lines timed from write to the worker's read at a low rate, per createSluice run. */
  latencyLines: number
  /** A directory holding an older build (its dist/): its createSluice runs beside this one's. */
  baseline: string | undefined
  /** Only the systems whose name contains one of these (all when empty). */
  only: string[]
  /** Where createSluice runs write CPU profiles (node --cpu-prof), for the doorbell's share; undefined: none. */
  cpuProfDir: string | undefined
}

interface Variant {
  name: string
  system: ServiceSystem
  sluiceModule: string
}

export interface ServiceRow {
  name: string
  reqPerSec: number
  p99Ms: number
  appCpuUsPerReq: number
  workerCpuUsPerReq: number
  processCpuUsPerReq: number
  postgresCpuUsPerReq: number | null
  workerSleepsPerLine: number | null
  doorbellsPerLine: number | null
  ownWakesPerLine: number | null
  deliveryP50Ms: number | null
  deliveryP99Ms: number | null
  /** Worst repeat: lines logged that are neither rows nor counted dropped/failed. */
  lostMax: number | null
  failedRuns: number
}

interface RunFigures {
  reqPerSec: number
  p99Ms: number
  app: ServiceAppResult
  postgresCpuMs: number | undefined
  lost: number | null
}

function variants(config: ServiceConfig): Variant[] {
  const list: Variant[] = SERVICE_SYSTEMS.map((system) => ({ name: SERVICE_LABELS[system], system, sluiceModule: THIS_BUILD }))
  if (config.baseline) {
    const module = pathToFileURL(join(resolve(config.baseline), 'dist/src/index.js')).href
    list.splice(3, 0, { name: `${SERVICE_LABELS['create-sluice']} (baseline build)`, system: 'create-sluice', sluiceModule: module })
  }
  return config.only.length === 0 ? list : list.filter((v) => config.only.some((part) => v.name.includes(part)))
}

async function runVariant(config: ServiceConfig, sql: BenchSql, database: { url: string; port: number }, variant: Variant): Promise<RunFigures> {
  const usesTable = variant.system === 'create-sluice' || variant.system === 'pino-sluice'
  const table = `service_${randomBytes(4).toString('hex')}`
  if (usesTable) await prepareTable(sql, 'create-sluice', 'burst', table, 0)
  const spec: ServiceAppSpec = { system: variant.system, databaseUrl: database.url, table, sluiceModule: variant.sluiceModule, latencyLines: variant.system === 'create-sluice' ? config.latencyLines : 0, latencyGapMs: 10 }
  const profileDir = config.cpuProfDir && variant.system === 'create-sluice' ? mkdtempSync(join(resolve(config.cpuProfDir), 'service-')) : undefined
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const child = fork(SERVICE_APP, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
  const killer = setTimeout(() => child.kill('SIGKILL'), (config.warmUpSeconds + config.seconds) * 1000 + 120_000)
  try {
    const messages: ServiceToParent[] = []
    const next = async (type: ServiceToParent['type']): Promise<ServiceToParent> => {
      for (;;) {
        const found = messages.find((m) => m.type === type)
        if (found) return found
        const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`the app exited with ${String(code)}`)))])) as [ServiceToParent]
        messages.push(message)
      }
    }
    const listening = await next('listening')
    if (listening.type !== 'listening') throw new Error('unreachable')
    const url = `http://127.0.0.1:${listening.port}/orders/42`
    await autocannon({ url, connections: config.connections, duration: config.warmUpSeconds, ...(config.rate === undefined ? {} : { overallRate: config.rate }) })
    const serverBefore = usesTable ? serverCpuMs(database.port) : undefined
    child.send({ type: 'start' })
    const load = await autocannon({ url, connections: config.connections, duration: config.seconds, ...(config.rate === undefined ? {} : { overallRate: config.rate }) })
    child.send({ type: 'stop' })
    const serverAfter = usesTable ? serverCpuMs(database.port) : undefined
    const reported = await next('result')
    if (reported.type !== 'result') throw new Error('unreachable')
    const app = reported.result
    let lost: number | null = null
    if (usesTable) {
      const rows = await countAndDrop(sql, 'create-sluice', table)
      const c = app.counters ?? {}
      lost = app.logged - rows - (c.dropped ?? 0) - (c.failed ?? 0)
    }
    if (load.errors > 0 || load.non2xx > 0) throw new Error(`autocannon: ${load.errors} errors, ${load.non2xx} non-2xx`)
    if (profileDir) {
      if (child.exitCode === null) await once(child, 'exit')
      reportProfiles(profileDir, app.logged)
    }
    return { reqPerSec: load.requests.average, p99Ms: load.latency.p99, app, postgresCpuMs: serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore, lost }
  } finally {
    clearTimeout(killer)
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}

/** The doorbell's share of each thread's CPU profile (the whole life of the app, load included), per 1,000 lines logged. */
function reportProfiles(dir: string, lines: number): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the app's main thread.
  const thread = (f: string): number => Number(f.split('.').at(-3))
  const splits = files.map((f) => ({ main: thread(f) === 0, ...profileSplit(join(dir, f), thread(f) === 0 ? APP_PARTS : WORKER_PARTS) }))
  const app = splits.find((s) => s.main)
  const worker = splits.filter((s) => !s.main).sort((a, b) => b.busyMs - a.busyMs)[0]
  const line = (who: string, s: { busyMs: number; shares: Record<string, number> } | undefined): string =>
    s === undefined ? `  ${who}: no profile\n` : `  ${who}: ${((s.busyMs * 1000) / Math.max(1, lines)).toFixed(1)} ms busy per 1k lines; ${Object.entries(s.shares).map(([name, share]) => `${name} ${(share * 100).toFixed(1)}%`).join(', ')}\n`
  process.stdout.write(`\n  profiles in ${dir}\n${line('app thread', app)}${line('worker', worker)}`)
}

function summarize(name: string, runs: readonly RunFigures[], failedRuns: number): ServiceRow {
  const m = (pick: (r: RunFigures) => number | null | undefined): number | null => {
    const values = runs.map(pick).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    return values.length === 0 ? null : median(values)
  }
  const perReq = (ns: number, r: RunFigures): number => ns / 1000 / Math.max(1, r.app.requests)
  const perLine = (n: number | null, r: RunFigures): number | null => (n === null ? null : n / Math.max(1, r.app.linesInWindow))
  const lost = runs.map((r) => r.lost).filter((v): v is number => v !== null)
  return {
    name,
    reqPerSec: m((r) => r.reqPerSec) ?? Number.NaN,
    p99Ms: m((r) => r.p99Ms) ?? Number.NaN,
    appCpuUsPerReq: m((r) => perReq(r.app.appCpuNs, r)) ?? Number.NaN,
    workerCpuUsPerReq: m((r) => perReq(r.app.workerCpuNs, r)) ?? Number.NaN,
    processCpuUsPerReq: m((r) => perReq(r.app.processCpuNs, r)) ?? Number.NaN,
    postgresCpuUsPerReq: m((r) => (r.postgresCpuMs === undefined ? null : (r.postgresCpuMs * 1000) / Math.max(1, r.app.requests))),
    workerSleepsPerLine: m((r) => perLine(r.app.workerSleeps, r)),
    doorbellsPerLine: m((r) => perLine(r.app.doorbells, r)),
    ownWakesPerLine: m((r) => perLine(r.app.ownWorkerWakes, r)),
    deliveryP50Ms: m((r) => (r.app.deliveryLatencyMs.length === 0 ? null : (r.app.deliveryLatencyMs[Math.floor(r.app.deliveryLatencyMs.length / 2)] as number))),
    deliveryP99Ms: m((r) => (r.app.deliveryLatencyMs.length === 0 ? null : (r.app.deliveryLatencyMs[Math.floor(r.app.deliveryLatencyMs.length * 0.99)] as number))),
    lostMax: lost.length === 0 ? null : Math.max(...lost),
    failedRuns,
  }
}

/** Runs every system `repeats` times, interleaved, against the Postgres at `database`. */
export async function runServiceBench(config: ServiceConfig, database: { url: string; port: number }, progress: (line: string) => void): Promise<ServiceRow[]> {
  const sql = benchSql(database.url)
  const list = variants(config)
  const runs = new Map<string, RunFigures[]>(list.map((v) => [v.name, []]))
  const failures = new Map<string, number>(list.map((v) => [v.name, 0]))
  try {
    for (let repeat = 1; repeat <= config.repeats; repeat++) {
      for (const variant of list) {
        progress(`service #${repeat} ${variant.name}... `)
        try {
          const figures = await runVariant(config, sql, database, variant)
          runs.get(variant.name)?.push(figures)
          const wakes = figures.app.workerSleeps === null ? '' : `, worker sleeps/line ${(figures.app.workerSleeps / Math.max(1, figures.app.linesInWindow)).toFixed(3)}`
          progress(`${Math.round(figures.reqPerSec).toLocaleString('en-US')} req/s, p99 ${figures.p99Ms} ms${wakes}${figures.lost === null ? '' : `, lost ${figures.lost}`}\n`)
        } catch (error) {
          failures.set(variant.name, (failures.get(variant.name) ?? 0) + 1)
          progress(`FAILED: ${error instanceof Error ? error.message : String(error)}\n`)
        }
      }
    }
  } finally {
    await sql.end()
  }
  return list.map((v) => summarize(v.name, runs.get(v.name) ?? [], failures.get(v.name) ?? 0))
}

export function serviceTable(rows: readonly ServiceRow[], config: ServiceConfig): string {
  const file = rows.find((r) => r.name === SERVICE_LABELS['pino-file'])
  const noop = rows.find((r) => r.name === SERVICE_LABELS['pino-noop'])
  const f = (v: number | null, digits = 0): string => (v === null || Number.isNaN(v) ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }))
  const header = ['system', 'req/s', '× pino/file', '× no-op', 'p99 ms', 'CPU µs/req app', 'worker', 'process', 'Postgres', 'worker sleeps/line', 'doorbells/line', 'ring wakes/line', 'delivery p50/p99 ms', 'lost']
  const lines = rows.map((r) => [
    r.name,
    f(r.reqPerSec),
    file ? `${f(r.reqPerSec / file.reqPerSec, 2)}×` : '–',
    noop ? `${f(r.reqPerSec / noop.reqPerSec, 2)}×` : '–',
    f(r.p99Ms),
    f(r.appCpuUsPerReq, 1),
    f(r.workerCpuUsPerReq, 1),
    f(r.processCpuUsPerReq, 1),
    f(r.postgresCpuUsPerReq, 1),
    f(r.workerSleepsPerLine, 3),
    f(r.doorbellsPerLine, 3),
    f(r.ownWakesPerLine, 3),
    r.deliveryP50Ms === null ? '–' : `${f(r.deliveryP50Ms, 2)} / ${f(r.deliveryP99Ms, 2)}`,
    `${f(r.lostMax)}${r.failedRuns > 0 ? ` (${r.failedRuns} failed)` : ''}`,
  ])
  const title = `Service: Fastify, one line per request, autocannon -c ${config.connections} -d ${config.seconds}${config.rate === undefined ? '' : ` -R ${config.rate}`} (loopback), medians of ${config.repeats}`
  return [title, `| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n')
}

export const SERVICE_USAGE = `Usage: node dist/bench/service.js [--seconds 10] [--connections 50] [--rate n] [--repeats 3]
       [--warm-up-seconds 2] [--latency-lines 100] [--baseline <dir>] [--only <name part>,...]
       [--cpu-prof <dir>]

Each system serves GET /orders/:id from Fastify, logging one line per request, under autocannon
(-c connections, -d seconds, after an unmeasured warm-up); systems interleaved, medians reported.
--rate: offer n requests/s in all instead of as many as the app answers; CPU per request at a
fixed rate is steadier than req/s on a machine shared with other work.
--latency-lines: createSluice only, lines logged one every 10 ms after the load, timed from the
write until the worker took them out of the ring. --baseline: a checkout of an older commit, built
(its dist/), whose createSluice runs beside this build's, for a before/after in one run.
--only: the systems whose name contains one of the parts (e.g. --only pino/file,createSluice).
--cpu-prof: createSluice runs under node --cpu-prof (profiles kept in <dir>), and the share of the
app thread and the worker spent on the doorbell and the sleep/wake cycle is printed per run.
`

export function readServiceConfig(argv: readonly string[]): ServiceConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      repeats: { type: 'string' },
      'warm-up-seconds': { type: 'string' },
      'latency-lines': { type: 'string' },
      baseline: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(SERVICE_USAGE)
    process.exit(0)
  }
  const int = (name: string, text: string | undefined, fallback: number): number => {
    const value = text === undefined ? fallback : Number(text)
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`)
    return value
  }
  return {
    seconds: int('seconds', values.seconds, 10),
    connections: int('connections', values.connections, 50),
    rate: values.rate === undefined ? undefined : int('rate', values.rate, 0),
    repeats: int('repeats', values.repeats, 3),
    warmUpSeconds: int('warm-up-seconds', values['warm-up-seconds'], 2),
    latencyLines: int('latency-lines', values['latency-lines'], 100),
    baseline: values.baseline,
    only: (values.only ?? '').split(',').map((part) => part.trim()).filter(Boolean),
    cpuProfDir: values['cpu-prof'],
  }
}

async function main(): Promise<void> {
  const config = readServiceConfig(process.argv.slice(2))
  process.stdout.write('starting an embedded Postgres...\n')
  const database = await startLocalPostgres()
  // Interrupted: leave no server and data dir behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void database.stop().finally(() => process.exit(130)))
  try {
    if (config.cpuProfDir) mkdirSync(config.cpuProfDir, { recursive: true })
  const rows = await runServiceBench(config, database, (line) => process.stdout.write(line))
    process.stdout.write(`\n${serviceTable(rows, config)}\n`)
  } finally {
    await database.stop()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    process.stderr.write(`service bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  })
}
