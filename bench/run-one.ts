import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchConfig } from './bench-config.js'
import { countAndDrop, prepareTable, type BenchSql } from './bench-database.js'
import { serverCpuMs } from './report/server-cpu.js'
import { nowMs, usesDatabase, usesLogger, type AppResult, type AppSpec, type Emission, type ScenarioName, type SystemName } from './bench-spec.js'
import { spawnPinoPostgres } from './systems/pino-postgres.js'

const APP = fileURLToPath(new URL('./app.js', import.meta.url))

/** One system in one scenario, once: the figures of one row of the table before taking medians. */
export interface RunResult {
  system: SystemName
  scenario: ScenarioName
  repeat: number
  emitted: number
  /** Main-thread nanoseconds per log call; null for the raw COPY (no logger). */
  nsPerCall: number | null
  /** Rows committed (or lines written out, for /dev/null) per second, from the first call until done. */
  rowsPerSec: number
  /** Rows counted in the table; for /dev/null systems, the lines handed to the destination. */
  written: number
  dropped: number
  failed: number
  /** Emitted but neither in the table nor counted as dropped/failed; null where nothing can be counted (/dev/null). */
  unaccounted: number | null
  /** From the last log call until everything was committed. */
  drainMs: number
  rssGrowthMB: number
  peakRssMB: number
  /**
   * CPU per record emitted, µs: the app's main thread, and the rest of its
   * process (the transport's worker, V8's and libuv's helpers), from the first
   * call until done. NaN where not measured (off Linux; pino-postgres, whose
   * work is in another process).
   */
  appThreadUsPerRecord: number
  otherThreadsUsPerRecord: number
  /** CPU the Postgres server spent per row written, µs, over the whole run; NaN without a database or off Linux. */
  serverUsPerRow: number
  error?: string
}

export function emissionFor(config: BenchConfig, scenario: ScenarioName): Emission {
  if (scenario === 'sustained') return { records: config.rate * config.seconds, rate: config.rate }
  if (scenario === 'slow-db') return { records: config.slowRecords, rate: undefined }
  if (scenario === 'startup-exit' || scenario === 'startup-natural') return { records: config.startupRecords, rate: undefined }
  return { records: config.records, rate: undefined }
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(nowMs() + (code === 0 && !signal ? 0 : Number.NaN))))
}

async function withTimeout<T>(promise: Promise<T>, ms: number, kill: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      kill()
      reject(new Error(`run took longer than ${ms / 1000} s and was killed`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export async function runOne(config: BenchConfig, sql: BenchSql, databaseUrl: string, scenario: ScenarioName, system: SystemName, repeat: number): Promise<RunResult> {
  const table = `bench_${system.replaceAll('-', '_')}_${scenario.replaceAll('-', '_')}_${randomBytes(3).toString('hex')}`
  const resultFile = join(tmpdir(), `${table}.json`)
  const spec: AppSpec = { system, scenario, emission: emissionFor(config, scenario), databaseUrl, table, resultFile, sluiceOptions: config.sluiceOptions }
  const usesTable = usesDatabase(system)
  if (usesTable) await prepareTable(sql, system, scenario, table, config.slowDelayMs)
  const port = Number(new URL(databaseUrl).port)
  const serverBefore = usesTable ? serverCpuMs(port) : undefined
  const stderr: string[] = []
  let transport: ChildProcess | undefined
  let app: ChildProcess | undefined
  try {
    if (system === 'pino-postgres') {
      transport = spawnPinoPostgres(databaseUrl, table)
      transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
      await once(transport, 'spawn')
      // The app's stdout is the CLI's stdin: `node app.js | pino-postgres`.
      app = spawn(process.execPath, [APP, JSON.stringify(spec)], { stdio: ['ignore', transport.stdin ?? 'ignore', 'pipe'] })
      transport.stdin?.destroy()
    } else {
      app = spawn(process.execPath, [APP, JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'pipe'] })
    }
    app.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
    const done = Promise.all([exited(app), transport ? exited(transport) : Promise.resolve(0)])
    const [appExit, transportExit] = await withTimeout(done, config.runTimeoutMs, () => {
      app?.kill('SIGKILL')
      transport?.kill('SIGKILL')
    })
    if (Number.isNaN(appExit) || Number.isNaN(transportExit)) throw new Error(`a process failed: ${stderr.join('').trim().slice(-500)}`)
    const serverAfter = serverBefore === undefined ? undefined : serverCpuMs(port)
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as AppResult
    const doneMs = result.doneMs ?? transportExit
    const written = usesTable ? await countAndDrop(sql, system, table) : result.emitted
    const dropped = sumPrefix(result.counters, 'dropped_')
    const failed = sumPrefix(result.counters, 'failed_')
    return {
      system,
      scenario,
      repeat,
      emitted: result.emitted,
      nsPerCall: usesLogger(system) ? result.callNs / result.emitted : null,
      rowsPerSec: written / ((doneMs - result.firstCallMs) / 1000),
      written,
      dropped,
      failed,
      unaccounted: usesTable ? result.emitted - written - dropped - failed : null,
      drainMs: Math.max(0, doneMs - result.lastCallMs),
      rssGrowthMB: (result.maxRssBytes - result.rssBeforeBytes) / 2 ** 20,
      peakRssMB: result.maxRssBytes / 2 ** 20,
      ...cpuPerRecord(system, result),
      serverUsPerRow: serverBefore === undefined || serverAfter === undefined || written === 0 ? Number.NaN : ((serverAfter - serverBefore) * 1000) / written,
    }
  } catch (error) {
    if (usesTable) await sql`drop table if exists ${sql(table)}`.catch(() => {})
    return { system, scenario, repeat, emitted: spec.emission.records, nsPerCall: null, rowsPerSec: 0, written: 0, dropped: 0, failed: 0, unaccounted: null, drainMs: 0, rssGrowthMB: 0, peakRssMB: 0, appThreadUsPerRecord: Number.NaN, otherThreadsUsPerRecord: Number.NaN, serverUsPerRow: Number.NaN, error: error instanceof Error ? error.message : String(error) }
  } finally {
    rmSync(resultFile, { force: true })
  }
}

/** The app process's CPU per record, split into its main thread and the rest (NaN where it was not measured). */
function cpuPerRecord(system: SystemName, result: AppResult): Pick<RunResult, 'appThreadUsPerRecord' | 'otherThreadsUsPerRecord'> {
  const { cpuMs, mainThreadCpuMs, emitted } = result
  // pino-postgres's work is in the CLI, another process: its app's CPU alone would flatter it.
  if (system === 'pino-postgres' || cpuMs === undefined || mainThreadCpuMs === undefined || emitted === 0) return { appThreadUsPerRecord: Number.NaN, otherThreadsUsPerRecord: Number.NaN }
  return { appThreadUsPerRecord: (mainThreadCpuMs * 1000) / emitted, otherThreadsUsPerRecord: (Math.max(0, cpuMs - mainThreadCpuMs) * 1000) / emitted }
}

function sumPrefix(counters: Record<string, number> | undefined, prefix: string): number {
  return Object.entries(counters ?? {}).reduce((sum, [name, value]) => (name.startsWith(prefix) ? sum + value : sum), 0)
}
