/**
 * Issue 26 item 5: SIGTERM under load in an OTel-traced HTTP service. With the
 * documented order (server drained, provider shut down, sluice closed last)
 * every span and log line of every answered request is stored, each child
 * with its parent and each log with its span; with the sluice closed first
 * the losses are counted (dropped_closed), never silent. A span the processor
 * cannot hand to the logger is counted in the transport's counters.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TracerProvider } from '@opentelemetry/sdk-trace'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createSluice } from '../../src/index.js'
import { SluiceSpanProcessor } from '../../src/otel/index.js'
import { databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'

const APP = fileURLToPath(new URL('../fixtures/otel-sigterm-app.mjs', import.meta.url))
const REQUESTS = 20
const sql = sqlClient()
afterAll(() => sql.end())

interface Report {
  processor: Record<string, number>
  transport: Record<'received' | 'written' | 'dropped_closed' | 'spans', number>
}

function get(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/answer', agent: false }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', () => resolve(0))
  })
}

/** Starts the app, sends REQUESTS at once, SIGTERM once all are in flight; returns what the client and the app saw. */
async function sigtermUnderLoad(mode: string, table: string): Promise<{ answered: number; signal: string | null; report: Report; stderr: string }> {
  const child = spawn(process.execPath, [APP, databaseUrl(), table, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let signalled = false
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const port = await new Promise<number>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
      const listening = /listening (\d+)/.exec(stdout)
      if (listening) resolve(Number(listening[1]))
      if (!signalled && stdout.split('started\n').length - 1 === REQUESTS) {
        signalled = true
        child.kill('SIGTERM')
      }
    })
  })
  const statuses = await Promise.all(Array.from({ length: REQUESTS }, () => get(port)))
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null]
  const reportLine = stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}'
  return { answered: statuses.filter((s) => s === 200).length, signal, report: JSON.parse(reportLine) as Report, stderr }
}

describe('SIGTERM in an OTel-traced HTTP service', () => {
  it('with the documented order, every answered request has all its spans and log lines stored, joined', async () => {
    const table = uniqueTable('otel_sigterm')
    const { answered, signal, report, stderr } = await sigtermUnderLoad('ordered', table)
    expect(signal).toBe('SIGTERM')
    expect(stderr).toBe('')
    expect(answered).toBe(REQUESTS)
    const spans = REQUESTS * 4
    const logs = REQUESTS * 4
    expect(report.processor).toMatchObject({ spans, afterShutdown: 0, levelFiltered: 0, emitErrors: 0 })
    expect(report.transport).toMatchObject({ received: spans + logs, written: spans + logs, spans, dropped: 0, failed: 0 })
    const [stored] = await sql`select count(*)::int as n,
        count(*) filter (where parent_span_id is null)::int as roots,
        count(*) filter (where parent_span_id is not null and parent_span_id not in (select span_id from ${sql(`${table}_spans`)}))::int as orphans,
        count(*) filter (where cost_usd is not null and model_usage ? 'model-a')::int as priced
      from ${sql(`${table}_spans`)}`
    expect(stored).toEqual({ n: spans, roots: REQUESTS, orphans: 0, priced: REQUESTS * 3 })
    const [lines] = await sql`select count(*)::int as n,
        count(*) filter (where span_id in (select span_id from ${sql(`${table}_spans`)}))::int as joined
      from ${sql(table)} where not data ? 'pino_sluice'`
    expect(lines).toEqual({ n: logs, joined: logs })
  })

  it('with the sluice closed first, what the draining requests log is counted dropped_closed, never lost silently', async () => {
    const table = uniqueTable('otel_sigterm')
    const { signal, report } = await sigtermUnderLoad('naive', table)
    expect(signal).toBe('SIGTERM')
    const t = report.transport
    expect(t.received).toBe(t.written + t.dropped_closed)
    const [stored] = await sql<{ spans: number; logs: number }[]>`select
        (select count(*)::int from ${sql(`${table}_spans`)}) as spans,
        (select count(*)::int from ${sql(table)} where not data ? 'pino_sluice') as logs`
    expect((stored?.spans ?? 0) + (stored?.logs ?? 0)).toBe(t.written)
    expect(t.spans).toBe(stored?.spans)
  })
})

describe('spans the processor cannot hand to the logger', () => {
  it('are counted as received and dropped (span_level, span_error) in the transport counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-otel-drop-'))
    const sluice = createSluice({ postgres: false, file: { path: join(dir, 'log.ndjson') } })
    const stderr: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((text: string) => (stderr.push(String(text)), true)) as typeof process.stderr.write
    try {
      const quiet = new SluiceSpanProcessor(pino({ level: 'warn' }, sluice.transport))
      const logger = pino(sluice.transport)
      logger.info = () => {
        throw new Error('stream destroyed')
      }
      const throwing = new SluiceSpanProcessor(logger)
      const provider = new TracerProvider({ spanProcessors: [quiet, throwing] })
      provider.getTracer('t').startSpan('one').end()
      provider.getTracer('t').startSpan('two').end()
      await sluice.close()
    } finally {
      process.stderr.write = write
    }
    expect(sluice.stats.read()).toMatchObject({ received: 4, written: 0, dropped_span_level: 2, dropped_span_error: 2, dropped: 4 })
    expect(stderr.join('')).toContain('filters them out')
  })
})
