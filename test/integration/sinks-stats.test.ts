/**
 * Per-sink counts wherever the counters are read: createStats(), the stats
 * file, /metrics and /stats, `sluice tail`, and the exit report of a real
 * process.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createStats } from '../../src/index.js'
import { SinkCounters, readSinkRegion } from '../../src/counters/sink-counters.js'
import { databaseUrl, INDEX_URL, PINO_URL, SCRIPTED_SINK, startTransport } from '../support/transport.js'

const run = promisify(execFile)
const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-stats-'))

describe('the sink region of the shared counters', () => {
  it('carries names and counts from the worker side to createStats().read()', () => {
    const stats = createStats()
    const worker = new SinkCounters(stats.buffer)
    worker.register('webhook')
    worker.register('s-32-chars-32-chars-32-chars-xxx')
    worker.delivered('webhook', 7)
    worker.fail('webhook', 'timeout', 2)
    worker.fail('s-32-chars-32-chars-32-chars-xxx', 'error', 1)
    // Registered names show at once, their counts from the next publish.
    expect(stats.read().sinks.webhook).toMatchObject({ delivered: 0, failed: 0 })
    worker.publish()
    expect(stats.read().sinks.webhook).toMatchObject({ delivered: 7, failed: 2, failed_timeout: 2, failed_error: 0 })
    expect(stats.read().sinks['s-32-chars-32-chars-32-chars-xxx']).toMatchObject({ delivered: 0, failed: 1 })
  })

  it('ignores a buffer without the region (an old createStats or a plain SharedArrayBuffer)', () => {
    const plain = new SharedArrayBuffer(64 * 8)
    const worker = new SinkCounters(plain)
    worker.register('x')
    worker.delivered('x', 1)
    worker.publish()
    expect(readSinkRegion(plain)).toEqual({})
    expect(worker.snapshot().x?.delivered).toBe(1)
  })
})

describe('sinks.<name> in /metrics, /stats, the stats file, sluice tail and the stats table', () => {
  it('shows delivered and failed by reason for each sink', async () => {
    const file = join(dir, 'stats.json')
    const h = await startTransport({
      stats: { file, port: 0, intervalMs: 100 },
      sinks: [
        { target: SCRIPTED_SINK, name: 'good', options: { script: ['ok'] } },
        { target: SCRIPTED_SINK, name: 'broken', options: { script: ['throw'] } },
      ],
    })
    for (let i = 0; i < 3; i++) h.logger.info(`line ${i}`)
    await h.flush()
    const snapshotFile = () => JSON.parse(readFileSync(file, 'utf8')) as { http: { url: string }; sinks: Record<string, { delivered: number; failed: number }> }
    await waitFor(() => {
      try {
        return snapshotFile().sinks.good?.delivered === 3 && snapshotFile().http !== null
      } catch {
        return false
      }
    })
    const { url } = snapshotFile().http
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('pino_sluice_sink_delivered_total{sink="good"} 3')
    expect(metrics).toContain('pino_sluice_sink_delivered_total{sink="postgres"} 3')
    expect(metrics).toContain('pino_sluice_sink_failed_total{sink="broken",reason="error"} 3')
    const live = (await (await fetch(`${url}/stats`)).json()) as { sinks: Record<string, { delivered: number; failed: number }> }
    expect(live.sinks.broken).toMatchObject({ delivered: 0, failed: 3 })

    const { stdout } = await run(process.execPath, [CLI, 'tail', '--file', file, '--count', '1'])
    expect(stdout).toContain('sinks.good.delivered=3 sinks.good.failed=0')
    expect(stdout).toContain('sinks.broken.delivered=0 sinks.broken.failed=3')
    const json = await run(process.execPath, [CLI, 'tail', '--file', file, '--count', '1', '--json'])
    expect(JSON.parse(json.stdout).sinks.broken).toMatchObject({ failed: 3, failed_error: 3 })
    await h.close()
    // The writer's row in <table>_stats (final at close) carries them too: `sluice tail --db`.
    const db = await run(process.execPath, [CLI, 'tail', '--db', databaseUrl(), '--table', h.table, '--count', '1'])
    expect(db.stdout).toMatch(/sinks\.good\.delivered=3 sinks\.good\.failed=0.*sinks\.broken\.delivered=0 sinks\.broken\.failed=3/)
  })
})

describe('the exit report of a real process', () => {
  it('names each sink that lost records', async () => {
    const app = join(dir, 'exit-app.mjs')
    writeFileSync(
      app,
      `import pino from '${PINO_URL}'
import { createSluice } from '${INDEX_URL}'
const sluice = createSluice({ postgres: { url: process.env.DATABASE_URL, table: 'sinks_exit_report' }, sinks: [{ target: ${JSON.stringify(SCRIPTED_SINK)}, name: 'flaky', options: { script: ['ok', 'reject'] } }] })
const log = pino(sluice.transport)
log.info('one')
await sluice.flush()
log.info('two')
await sluice.close()
`,
    )
    const { stderr } = await run(process.execPath, [app], { env: { ...process.env, DATABASE_URL: databaseUrl() }, timeout: 60_000 })
    expect(stderr).toContain('pino-sluice: sink flaky: write failed: sink rejected')
    expect(stderr).toMatch(/pino-sluice: received=2 written=2 dropped=0 failed=0 \(sinks\.flaky\.delivered=1 sinks\.flaky\.failed=1\)/)
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
