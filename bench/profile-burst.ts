/**
 * `npm run bench:profile -- [--records 200000] [--via create|transport|transport-sync] [--cpu-prof] [--sluice '<json>']`
 * `npm run bench:profile -- --records 200000 --split <worker .cpuprofile>`: the stage split of a saved profile (to compare runs made before a change in the split).
 *
 * Where a burst's time goes in the worker. One app process logs a burst into a
 * channel that holds all of it (nothing dropped), with PINO_SLUICE_PROFILE set
 * so the worker times each step (sinks/shared/worker-profile.ts) and writes the
 * totals when it closes. Prints the breakdown next to the unindexed
 * 5000-row COPY ceiling measured in the same run; with --cpu-prof, also the
 * worker thread's CPU per record by stage (WORKER_STAGES: the samples whose
 * stack holds the stage's functions) and its hottest functions (self time).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startLocalPostgres } from '../dev/local-postgres.js'
import type { WorkerProfileReport } from '../sinks/shared/worker-profile.js'
import { benchSql, countAndDrop, prepareTable, type BenchSql } from './bench-database.js'
import type { AppResult, AppSpec, SystemName } from './bench-spec.js'
import { profileSplit, type Part } from './report/cpu-profile-split.js'
import { freshPageCostUs } from './report/page-fault-cost.js'
import { serverCpuMs } from './report/server-cpu.js'
import { BIG_CHANNEL, BIG_RING } from './systems/pino-sluice.js'

const APP = fileURLToPath(new URL('./app.js', import.meta.url))
/** `--via`: the entry point measured, each with a channel (and ring) that holds the burst. */
const VIA: Readonly<Record<string, SystemName>> = { create: 'create-sluice-big', transport: 'pino-sluice-big', 'transport-sync': 'pino-sluice-sync-big' }

interface Run {
  result: AppResult
  written: number
  profile: WorkerProfileReport | undefined
  /** CPU ms the Postgres server spent during the run. */
  serverCpuMs: number | undefined
  cpuProfiles: string[]
}

async function runApp(sql: BenchSql, url: string, port: number, system: SystemName, records: number, sluiceOptions: Record<string, unknown>, cpuProfDir?: string): Promise<Run> {
  const table = `profile_${system.replaceAll('-', '_')}_${randomBytes(3).toString('hex')}`
  const dir = mkdtempSync(join(tmpdir(), 'sluice-profile-'))
  const resultFile = join(dir, 'result.json')
  const profileFile = join(dir, 'worker-profile.json')
  const spec: AppSpec = { system, scenario: 'burst', emission: { records, rate: undefined }, databaseUrl: url, table, resultFile, sluiceOptions }
  await prepareTable(sql, system, 'burst', table, 0)
  const execArgv = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const serverBefore = serverCpuMs(port)
  const child = spawn(process.execPath, [...execArgv, APP, JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PINO_SLUICE_PROFILE: profileFile } })
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(killer)
  const serverAfter = serverCpuMs(port)
  try {
    if (code !== 0) throw new Error(`${system} exited with ${code}`)
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as AppResult
    let profile: WorkerProfileReport | undefined
    try {
      profile = JSON.parse(readFileSync(profileFile, 'utf8')) as WorkerProfileReport
    } catch {
      profile = undefined
    }
    const written = await countAndDrop(sql, system, table)
    const cpuProfiles = cpuProfDir ? readdirSync(cpuProfDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(cpuProfDir, f)) : []
    const serverCpu = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore
    return { result, written, profile, serverCpuMs: serverCpu, cpuProfiles }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const cpu = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${Math.round(ms)} ms`)
const perRow = (ms: number | undefined, rows: number): string => (ms === undefined ? 'n/a' : ((ms * 1000) / rows).toFixed(1))
const rate = (run: Run): number => run.written / (((run.result.doneMs ?? 0) - run.result.firstCallMs) / 1000)

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time per function of one --cpu-prof file, hottest first. */
function hottest(file: string, top: number): { name: string; ms: number; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const self = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    total += dt
    const where = frame?.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '')}:${frame.lineNumber + 1}` : ''
    const name = `${frame?.functionName || '(anonymous)'} ${where}`.trim()
    self.set(name, (self.get(name) ?? 0) + dt)
  })
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: ms / total }))
}

type Frame = Parameters<Part['matches']>[0]
const inFile = (file: string, fn?: string) => (frame: Frame) => frame.url.endsWith(file) && (fn === undefined || frame.functionName === fn)

const inFiles =
  (...files: string[]) =>
  (frame: Frame): boolean =>
    files.some((file) => frame.url.endsWith(file))

/**
 * The worker's stages, by the functions on the stack (issue 25's before and
 * after). A sample counts once, for the stage of its innermost matching
 * frame (profileSplit's `exclusive`): a batch parsed inside the accept call
 * that queued its last line counts as scan, not as queue too. `createSluice`
 * reads lines out of the ring; `pino.transport()` gets chunks and splits
 * them. Parse counts the parse path and the lazy parse of a scanned
 * record's value; COPY write counts postgres.js and what it calls (its
 * startup queries too). Startup and batch bookkeeping are named so that
 * what is left is truly unattributed.
 */
const WORKER_STAGES: readonly Part[] = [
  { name: 'ring read (RingReader.read)', matches: inFile('ring/ring-reader.js', 'read') },
  { name: 'split (LineSplitter)', matches: inFile('transport/line-splitter.js') },
  { name: 'queue (PipelineIntake.accept, peekLevel)', matches: (f) => inFile('pipeline/pipeline-intake.js', 'accept')(f) || inFile('records/peek-level.js')(f) },
  { name: 'channel (BoundedChannel: make, push, take)', matches: inFile('channel/bounded-channel.js') },
  { name: 'scan (readLine, scanLine)', matches: (f) => inFile('records/scan-line.js')(f) || inFile('records/read-line.js')(f) },
  { name: 'parse (parseLine, or a scanned value asked for)', matches: (f) => inFile('records/parse-line.js')(f) || inFile('shared/log-record.js', 'get value')(f) },
  { name: 'encode (EncodedBatch.encode: COPY text)', matches: inFile('postgres/encoded-batch.js', 'encode') },
  { name: 'COPY write (copyLogRows, postgres.js)', matches: (f) => inFile('postgres/copy-log-rows.js', 'copyLogRows')(f) || f.url.includes('/node_modules/postgres/') },
  { name: 'socket write (writeBuffer, writev)', matches: (f) => f.url === '' && (f.functionName === 'writeBuffer' || f.functionName === 'writev' || f.functionName === 'writeUtf8String') },
  {
    name: 'batch bookkeeping (Batcher, BatchWriter, sinks)',
    matches: inFiles('batcher/batcher.js', 'pipeline/batch-writer.js', 'pipeline/sink-runner.js', 'pipeline/sink-answer.js', 'pipeline/pipeline.js', 'postgres/postgres-sink.js', 'postgres/write-batch.js', 'postgres/write-attempts.js'),
  },
  { name: 'startup (loading modules)', matches: (f) => f.url.startsWith('node:internal/modules/') || f.url.startsWith('node:internal/bootstrap/') },
  { name: 'GC', matches: (f) => f.functionName === '(garbage collector)' },
  { name: 'native, outside JS ((program))', matches: (f) => f.functionName === '(program)' },
]

/** CPU µs per record by stage, for a thread's --cpu-prof file. */
function stageSplit(file: string, records: number): string {
  const { busyMs, shares } = profileSplit(file, WORKER_STAGES, true)
  const lines = [`  CPU by stage, µs per record (${busyMs.toFixed(0)} ms on CPU, ${((busyMs * 1000) / records).toFixed(2)} µs per record):`]
  let counted = 0
  for (const { name } of WORKER_STAGES) {
    const share = shares[name] ?? 0
    counted += share
    if (share > 0) lines.push(`    ${name.padEnd(52)} ${((share * busyMs * 1000) / records).toFixed(2).padStart(6)} µs  ${(share * 100).toFixed(1).padStart(5)}%`)
  }
  lines.push(`    ${'everything else'.padEnd(52)} ${(((1 - counted) * busyMs * 1000) / records).toFixed(2).padStart(6)} µs  ${((1 - counted) * 100).toFixed(1).padStart(5)}%`)
  return lines.join('\n')
}

function breakdown(p: WorkerProfileReport): string {
  const lines: string[] = []
  const row = (name: string, ms: number, note = ''): void => {
    lines.push(`  ${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms  ${((ms / p.elapsedMs) * 100).toFixed(0).padStart(3)}%${note ? `  ${note}` : ''}`)
  }
  lines.push(`  worker: ${p.records.toLocaleString('en-US')} records in ${p.batches} batches (largest ${p.maxBatch}, up to ${p.maxInFlight} in flight), ${p.elapsedMs.toFixed(0)} ms from first line to close`)
  row('read: split chunks into lines, queue', p.readMs)
  row('parse: lines → records (scan, or JSON.parse)', p.parseMs)
  row('stages (S3, CloudWatch)', p.stagesMs)
  row('encode: records → rows → COPY text', p.encodeMs)
  row('wait before COPY (connection, BEGIN, SET)', p.waitBeforeCopyMs, 'per batch, overlaps')
  row('COPY: data sent until the server took it', p.copyMs, 'per batch, overlaps')
  row('COMMIT', p.commitMs, 'per batch, overlaps')
  row('a transaction open (database side busy)', p.txOpenMs)
  row('first line → first transaction', p.firstTxAtMs)
  row('first line → last commit', p.lastCommitAtMs)
  row('event loop busy', p.busyMs)
  row('event loop idle', p.idleMs)
  row('idle while lines were queued', p.idleWhileQueuedMs)
  return lines.join('\n')
}

/** Fresh pages touched per record by the app thread and the worker, and what they cost at this machine's price of a page. */
function pageFaults(run: Run): string {
  const costUs = freshPageCostUs()
  const records = run.result.emitted
  const part = (name: string, faults: number | undefined): string =>
    faults === undefined ? `${name} n/a` : `${name} ${(faults / records).toFixed(3)} (≈ ${((faults * costUs) / records).toFixed(2)} µs per record)`
  return `  page faults per record: ${part('app thread', run.result.mainThreadMinorFaults)}, ${part('worker', run.profile?.minorFaults)}; a fresh 4 KiB page costs ${costUs.toFixed(2)} µs here`
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      via: { type: 'string', default: 'create' },
      'cpu-prof': { type: 'boolean', default: false },
      sluice: { type: 'string', default: '{}' },
      'no-ceiling': { type: 'boolean', default: false },
      split: { type: 'string' },
    },
  })
  const records = Number(values.records)
  if (values.split !== undefined) {
    process.stdout.write(`${stageSplit(values.split, records)}\n`)
    return
  }
  const system = VIA[values.via]
  if (!system) throw new Error(`--via must be one of ${Object.keys(VIA).join(', ')}, got ${JSON.stringify(values.via)}`)
  const sluiceOptions = { channel: BIG_CHANNEL, ...(system === 'create-sluice-big' ? { ring: BIG_RING } : {}), ...(JSON.parse(values.sluice) as Record<string, unknown>) }
  const database = await startLocalPostgres()
  const sql = benchSql(database.url)
  const cpuDir = values['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'sluice-cpuprof-')) : undefined
  try {
    const ceiling = values['no-ceiling'] ? undefined : await runApp(sql, database.url, database.port, 'copy-5000', records, {})
    const run = await runApp(sql, database.url, database.port, system, records, sluiceOptions, cpuDir)
    const out: string[] = []
    out.push(`burst of ${records.toLocaleString('en-US')} records via ${system}, options ${JSON.stringify(values.sluice)}`)
    const sluiceRate = rate(run)
    out.push(`  end to end: ${Math.round(sluiceRate).toLocaleString('en-US')} rows/s (${run.written.toLocaleString('en-US')} written), app ${Math.round(run.result.callNs / run.result.emitted)} ns/call`)
    if (ceiling) out.push(`  ceiling (COPY, 5000-row txs, unindexed): ${Math.round(rate(ceiling)).toLocaleString('en-US')} rows/s → ${(sluiceRate / rate(ceiling)).toFixed(2)}× the ceiling`)
    for (const [name, r] of [['pino-sluice', run], ['ceiling', ceiling]] as const) {
      if (r) out.push(`  CPU ${name}: app process ${cpu(r.result.cpuMs)}, Postgres server ${cpu(r.serverCpuMs)} (µs per row: ${perRow(r.result.cpuMs, r.written)} app, ${perRow(r.serverCpuMs, r.written)} server)`)
    }
    if (run.profile) out.push(breakdown(run.profile))
    else out.push('  (no worker profile written)')
    out.push(pageFaults(run))
    for (const file of run.cpuProfiles) {
      // Node names a thread's profile <pid>.<thread id>.<n>: thread 0 is the app's main thread.
      if (!/\.0\.\d+\.cpuprofile$/.test(file)) out.push(stageSplit(file, run.written))
      out.push(`  --cpu-prof ${file}: hottest functions by self time`)
      for (const h of hottest(file, 18)) out.push(`    ${h.ms.toFixed(0).padStart(6)} ms ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}`)
    }
    process.stdout.write(`${out.join('\n')}\n`)
  } finally {
    await sql.end()
    await database.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
