/**
 * Issue 26 item 1: an app that creates its sluice in a preload (`--import`,
 * `-r`, NODE_OPTIONS, next to `--env-file`) gets exactly one worker, because
 * the worker never runs the app's preloads; and a sluice created inside our
 * own worker is refused with a clear error.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { SLUICE_WORKER_MARK } from '../../src/transport/inside-sluice-worker.js'
import { WORKER_YOUNG_GENERATION_MB, splitNodeOptions, workerFlags } from '../../src/transport/worker-flags.js'
import { INDEX_URL, WORKER_ENTRY } from '../support/transport.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/preload/', import.meta.url))
const WORKER_JS = fileURLToPath(new URL('../../dist/src/transport/worker.js', import.meta.url))

interface AppRun {
  /** Worker threads where Node names its threads (24+), else every thread of the process. */
  threads: number
  written: number
  marks: string[]
  stderr: string
}

/** Runs the preload app; `.env` in its directory names the log file, so `--env-file` must reach it. */
async function runApp(nodeArgs: string[], env: Record<string, string> = {}): Promise<AppRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-preload-'))
  const marks = join(dir, 'marks')
  writeFileSync(marks, '')
  writeFileSync(join(dir, '.env'), `SLUICE_FILE=${join(dir, 'from-env-file.ndjson')}\n`)
  const args = nodeArgs.map((a) => a.replace('{dir}', dir))
  const fileEnv = args.some((a) => a.startsWith('--env-file')) ? {} : { SLUICE_FILE: join(dir, 'log.ndjson') }
  const child = spawn(process.execPath, [...args, join(FIXTURES, 'app.mjs')], {
    cwd: FIXTURES,
    env: { ...process.env, NODE_OPTIONS: '', PRELOAD_MARKS: marks, HOLD_MS: '1500', ...fileEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  expect(code, stderr).toBe(0)
  const report = JSON.parse(stdout) as { threads: number; workers?: number; stats: { written: number } }
  return { threads: report.workers ?? report.threads, written: report.stats.written, marks: readFileSync(marks, 'utf8').split('\n').filter(Boolean), stderr }
}

describe('a sluice created in a preload starts exactly one worker', () => {
  it('runs the setup once, on the main thread, whichever way it is preloaded', async () => {
    const [baseline, ...runs] = await Promise.all([
      runApp([], { ALONE: '1' }),
      runApp(['--import', './setup.mjs']),
      runApp(['--require', './setup.cjs']),
      runApp(['-r', './setup.cjs']),
      runApp([], { NODE_OPTIONS: '--import ./setup.mjs' }),
      runApp([], { NODE_OPTIONS: '--require "./setup.cjs" --max-old-space-size=256' }),
      runApp(['--env-file={dir}/.env', '--import=./setup.mjs']),
    ])
    expect(baseline.marks).toEqual(['main'])
    for (const run of runs) {
      // A worker that ran the setup would have left a "worker" mark and started more threads.
      expect(run.marks).toEqual(['main'])
      expect(run.threads).toBe(baseline.threads)
      expect(run.written).toBe(10)
      expect(run.stderr).toBe('')
    }
  })
})

describe('the worker flags', () => {
  it('drop preloads, loaders, env files and script source, keep the rest', () => {
    const flags = workerFlags(
      ['--import', './a.mjs', '--max-old-space-size=256', '-r', 'b', '--require=c', '--loader', 'l', '--experimental-loader=m', '--env-file=.env', '--enable-source-maps', '--input-type=module', '-e', 'x'],
      { NODE_OPTIONS: '--import "./my setup.mjs" --conditions=dev --env-file-if-exists .env', HOME: '/h' },
    )
    expect(flags.execArgv).toEqual(['--max-old-space-size=256', '--enable-source-maps'])
    expect(flags.env).toEqual({ NODE_OPTIONS: '--conditions=dev', HOME: '/h' })
  })

  it('leave everything inherited when nothing has to go (a given list is checked again by node)', () => {
    expect(workerFlags(['--expose-gc'], { NODE_OPTIONS: '--max-old-space-size=64' })).toEqual({ execArgv: undefined, env: undefined, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
  })

  it("limit the worker's young generation, unless the app sizes it itself", () => {
    expect(workerFlags([], {}).resourceLimits).toEqual({ maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB })
    expect(workerFlags(['--max-semi-space-size=32'], {}).resourceLimits).toBeUndefined()
    expect(workerFlags([], { NODE_OPTIONS: '--max_semi_space_size=64' }).resourceLimits).toBeUndefined()
  })

  it('drop NODE_OPTIONS entirely when only preloads were in it', () => {
    expect(workerFlags([], { NODE_OPTIONS: '-r ./x.cjs', A: '1' }).env).toEqual({ A: '1' })
  })

  it('split NODE_OPTIONS as node does', () => {
    expect(splitNodeOptions('  --a  "--b c" --d="e \\"f\\"" ')).toEqual(['--a', '--b c', '--d=e "f"'])
  })
})

describe('a sluice inside our own worker', () => {
  it('is recognised for the ring worker and for pino.transport targets naming pino-sluice', async () => {
    // From dist: the targets pino resolves are the built files.
    const { insideSluiceWorker } = (await import(new URL('../../dist/src/transport/inside-sluice-worker.js', import.meta.url).href)) as typeof import('../../src/transport/inside-sluice-worker.js')
    expect(insideSluiceWorker({ mark: SLUICE_WORKER_MARK }, false)).toBe(true)
    expect(insideSluiceWorker({ filename: INDEX_URL, workerData: {} }, false)).toBe(true)
    expect(insideSluiceWorker({ filename: WORKER_JS }, false)).toBe(true)
    expect(insideSluiceWorker({ filename: 'file:///pino/lib/worker.js', workerData: { targets: [{ target: 'pino-pretty' }, { target: WORKER_ENTRY }] } }, false)).toBe(true)
    expect(insideSluiceWorker({ filename: 'file:///pino/lib/worker.js', workerData: { targets: [{ target: 'pino-pretty' }] } }, false)).toBe(false)
    expect(insideSluiceWorker({ mark: SLUICE_WORKER_MARK }, true)).toBe(false)
    expect(insideSluiceWorker(undefined, false)).toBe(false)
  })

  it('is refused with an error that says why and what to do', async () => {
    const code = `import('${INDEX_URL}').then((m) => { try { m.createSluice({ postgres: false }); process.exit(0) } catch (e) { require('node:worker_threads').parentPort.postMessage(e.message); } })`
    const worker = new Worker(code, { eval: true, workerData: { mark: SLUICE_WORKER_MARK } })
    const [message] = (await once(worker, 'message')) as [string]
    await worker.terminate()
    expect(message).toMatch(/createSluice\(\) was called inside pino-sluice's own worker.*without end.*Create the sluice in the app only/)
  })
})
