/**
 * Everything the CLI prints from data is safe for a terminal (issue 27, item 1):
 * control characters, C1 (U+009B is a one-byte CSI) and bidi overrides come out
 * escaped in every command, and --json stays exact. The built CLI runs as a
 * child process against rows, files and an endpoint holding hostile text.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS, usage } from '../../src/cli/main.js'
import { jsonTerminalSafe, terminalSafe } from '../../src/cli/terminal-safe.js'
import { readWriters } from '../../src/cli/tail/db-source.js'
import { renderScreen } from '../../src/cli/tail/render-tail.js'
import { tailUpdate } from '../../src/cli/tail/tail-update.js'
import { COUNTER_NAMES, createTracer, sluiceMixin } from '../../src/index.js'
import type { Trace } from '../../src/spans/load-trace.js'
import { buildTraceTree, renderTraceTree } from '../../src/spans/trace-tree.js'
import { parseSnapshot } from '../../src/stats/stats-snapshot.js'
import pino from 'pino'
import { databaseUrl, expectBalanced, sqlClient, startTransport, type Harness } from '../support/transport.js'

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

/** The inputs of the issue: retitle, clear screen, 8-bit CSI, right-to-left override, OSC 8 hyperlink. */
const RETITLE = '\u001b]0;pwned\u0007'
const CLEAR = '\u001b[2J'
const CSI8 = '\u009b31m'
const RLO = '\u202eevil'
const LINK = '\u001b]8;;http://evil.example/\u001b\\click\u001b]8;;\u001b\\'
const HOSTILE = [RETITLE, CLEAR, CSI8, RLO, LINK].join(' ')
/** The same without '/', for a file name. */
const HOSTILE_FILE_NAME = `${RETITLE}${CLEAR}\u009b\u202e\u2066x`

/** Every character a terminal could act on; only \n ends our own lines. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

function expectTerminalSafe(text: string): void {
  expect(text.split('\u001b').length - 1, `ESC bytes in:\n${JSON.stringify(text)}`).toBe(0)
  expect(text).not.toMatch(UNSAFE)
}

/** Our own colors are the only escape sequences allowed in colored output. */
function withoutOurColors(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('terminalSafe', () => {
  it('escapes C0, DEL, C1 and bidi controls JSON style, and leaves other text alone', () => {
    expect(terminalSafe(RETITLE)).toBe('\\u001b]0;pwned\\u0007')
    expect(terminalSafe(CLEAR)).toBe('\\u001b[2J')
    expect(terminalSafe(CSI8)).toBe('\\u009b31m')
    expect(terminalSafe(RLO)).toBe('\\u202eevil')
    expect(terminalSafe('a\nb\tc\rd\u007f\u2067\u200f')).toBe('a\\nb\\tc\\rd\\u007f\\u2067\\u200f')
    expect(terminalSafe('ünïcødé 🚀 "quoted" \\ path')).toBe('ünïcødé 🚀 "quoted" \\ path')
    expectTerminalSafe(terminalSafe(HOSTILE))
  })

  it('the usage texts themselves hold no raw control character', () => {
    for (const command of COMMANDS) expectTerminalSafe(command.usage)
    expectTerminalSafe(usage())
  })

  it('JSON made terminal-safe parses back to exactly the same value', () => {
    const value = { msg: HOSTILE, [HOSTILE]: [CSI8, '\u0085', '\u2028', '\u2066ok\u2069', '\u007f'] }
    const json = jsonTerminalSafe(JSON.stringify(value))
    expectTerminalSafe(json)
    expect(JSON.parse(json)).toEqual(value)
  })
})

describe('sluice trace, materialize and prune with hostile text in the rows', () => {
  let h: Harness
  const sql = sqlClient()
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  beforeAll(async () => {
    h = await startTransport()
    const logger = pino({ mixin: sluiceMixin }, h.transport)
    const tracer = createTracer(logger)
    await tracer.span(`root ${HOSTILE}`, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, async () => {
      logger.info({ note: HOSTILE, [CSI8]: RLO }, `msg ${HOSTILE}`)
      await tracer.span(`llm ${LINK}`, async (span) => {
        span.recordUsage({ model: `m${CSI8}${RLO}`, inputTokens: 1, outputTokens: 1, costUsd: 0.01 })
      })
      await tracer.span('fails', async () => {
        throw new Error(`boom ${HOSTILE}`)
      }).catch(() => {})
    })
    logger.info(`plain row ${HOSTILE}`)
    await h.close()
    expectBalanced(h.stats, expect)
  })
  afterAll(() => sql.end())

  it('sluice trace prints no escape byte, with the text shown escaped; --json gives it back exactly', async () => {
    const text = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', h.table])
    expect(text.code).toBe(0)
    expectTerminalSafe(text.stdout)
    expect(text.stdout).toContain('root \\u001b]0;pwned\\u0007 \\u001b[2J \\u009b31m \\u202eevil')
    expect(text.stdout).toContain('msg \\u001b]0;pwned\\u0007')
    expect(text.stdout).toContain('model m\\u009b31m\\u202eevil')
    expect(text.stdout).toContain('Error: boom \\u001b]0;pwned')

    const json = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', h.table, '--json'])
    expect(json.code).toBe(0)
    expectTerminalSafe(json.stdout)
    const tree = JSON.parse(json.stdout)
    const root = tree.roots[0]
    expect(root.span.name).toBe(`root ${HOSTILE}`)
    expect(root.logs[0].msg).toBe(`msg ${HOSTILE}`)
    expect(root.logs[0].data).toMatchObject({ note: HOSTILE, [CSI8]: RLO })
    expect(root.children.map((c: { span: { name: string } }) => c.span.name)).toEqual([`llm ${LINK}`, 'fails'])
    expect(root.children[0].span.models[0].model).toBe(`m${CSI8}${RLO}`)
    expect(root.children[1].span.errorMessage).toBe(`boom ${HOSTILE}`)
  })

  it('sluice materialize writes exact JSON with no raw escape byte', async () => {
    const [row] = await sql`select id from ${sql(h.table)} where msg = ${`plain row ${HOSTILE}`}`
    const out = await sluice(['materialize', String(row?.id), '--url', databaseUrl(), '--table', h.table, '--bucket', 'some-bucket'])
    expect(out.code).toBe(0)
    expectTerminalSafe(out.stdout)
    expect(JSON.parse(out.stdout).msg).toBe(`plain row ${HOSTILE}`)
  })

  it('sluice prune shows a planted partition name escaped, and exactly in --json', async () => {
    const name = `${RETITLE}\u009b\u202e`
    await sql`create table ${sql(name)} partition of ${sql(h.table)} for values from ('2001-01-01') to ('2001-01-02')`
    const text = await sluice(['prune', '--retention', '1d', '--dry-run', '--url', databaseUrl(), '--table', h.table])
    expect(text.code).toBe(0)
    expectTerminalSafe(text.stdout)
    expect(text.stdout).toContain('would drop \\u001b]0;pwned\\u0007\\u009b\\u202e  [2001-01-01T00:00:00Z')
    const json = await sluice(['prune', '--retention', '1d', '--dry-run', '--json', '--url', databaseUrl(), '--table', h.table])
    expectTerminalSafe(json.stdout)
    expect(JSON.parse(json.stdout).tables[0].expired.map((p: { name: string }) => p.name)).toContain(name)
    await sql`drop table ${sql(name)}`
  })

  it('renders colored output whose only escape sequences are our own colors', () => {
    const span = (spanId: string, parentSpanId: string | null, name: string, status: string) => ({
      spanId, parentSpanId, name, startMs: 1, endMs: 2, durationMs: 1, status, errorType: status === 'ok' ? null : HOSTILE, errorMessage: status === 'ok' ? null : HOSTILE,
      attributes: {}, events: [], tokens: { input: 1n, output: 1n, cacheRead: 0n, cacheCreation: 0n }, costUsd: 1,
      models: [{ model: HOSTILE, input: 1n, output: 1n, cacheRead: 0n, cacheCreation: 0n, costUsd: 1 }], writerId: 'w', seq: 1, rowId: '1', hasPayload: false, pointers: {},
    })
    const trace: Trace = {
      traceId,
      spans: [span('a'.repeat(16), null, HOSTILE, `x${HOSTILE}`), span('b'.repeat(16), 'a'.repeat(16), HOSTILE, 'ok')],
      logs: [{ time: new Date(1), level: 30, msg: HOSTILE, spanId: 'b'.repeat(16), data: { [HOSTILE]: HOSTILE }, writerId: 'w', seq: 2, rowId: '2', pointers: {} }, { time: new Date(1), level: 30, msg: HOSTILE, spanId: null, data: {}, writerId: 'w', seq: 3, rowId: '3', pointers: {} }],
      omitted: { spans: 0, logs: 0 },
    }
    const colored = renderTraceTree(buildTraceTree(trace), { color: true })
    expect(colored).toContain('\u001b[31m')
    expectTerminalSafe(withoutOurColors(colored))
  })
})

describe('sluice tail with a hostile snapshot, file names and stats rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hostile-'))
  const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 1]))
  const snapshot = (timeMs: number, final: boolean) => ({
    schema: 2,
    time: HOSTILE,
    time_ms: timeMs,
    interval_ms: 1000,
    writer: { hostname: HOSTILE, pid: HOSTILE, thread_id: 1, started_ms: timeMs },
    http: null,
    final,
    counters,
    sinks: { [HOSTILE]: { delivered: HOSTILE, failed: 0, failed_error: HOSTILE } },
  })
  let server: Server
  let url = ''
  beforeAll(async () => {
    server = createServer((_request, response) => response.end(JSON.stringify(snapshot(Date.now(), true))))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('--file and --url, piped, as text and --json: no escape byte, and the JSON is exact', async () => {
    const file = join(dir, 'final.json')
    writeFileSync(file, JSON.stringify(snapshot(Date.now(), true)))
    for (const source of [['--file', file], ['--url', url]]) {
      const text = await sluice(['tail', ...source, '--count', '1'])
      expect(text.code).toBe(0)
      expectTerminalSafe(text.stdout)
      expect(text.stdout).toContain('sinks.\\u001b]0;pwned\\u0007')
      const json = await sluice(['tail', ...source, '--count', '1', '--json'])
      expectTerminalSafe(json.stdout)
      const update = JSON.parse(json.stdout)
      expect(update.writer.hostname).toBe(HOSTILE)
      expect(update.time).toBe(HOSTILE)
      expect(Object.keys(update.sinks)).toEqual([HOSTILE])
    }
  })

  it('status lines and the give-up message (a stale snapshot) show the hostname escaped', async () => {
    const file = join(dir, 'stale.json')
    writeFileSync(file, JSON.stringify(snapshot(Date.now() - 60_000, false)))
    const out = await sluice(['tail', '--file', file, '--count', '2', '--timeout', '500ms', '--interval', '100'])
    expect(out.code).toBe(1)
    expect(out.stdout).toMatch(/^# stale: .* from \\u001b\]0;pwned/m)
    expectTerminalSafe(out.stdout)
    expectTerminalSafe(out.stderr)
  })

  it('the "stats files in dir" hint shows a planted file name escaped', async () => {
    const near = mkdtempSync(join(tmpdir(), 'sluice-hostile-near-'))
    writeFileSync(join(near, `${HOSTILE_FILE_NAME}.json`), JSON.stringify(snapshot(Date.now(), true)))
    const out = await sluice(['tail', '--file', join(near, 'missing.json'), '--count', '1', '--timeout', '300ms', '--interval', '100'])
    expect(out.code).toBe(1)
    expect(out.stdout).toContain(`stats files in ${near}: ${join(near, '\\u001b]0;pwned\\u0007\\u001b[2J\\u009b\\u202e\\u2066x.json')}`)
    expectTerminalSafe(out.stdout)
    expectTerminalSafe(out.stderr)
  })

  it('the terminal screen: only our own colors', () => {
    const parsed = parseSnapshot(JSON.stringify(snapshot(Date.now(), false)))
    if (!parsed.ok) throw new Error(parsed.reason)
    const lines = renderScreen(tailUpdate(undefined, parsed.snapshot), `/tmp/${HOSTILE}`, `status ${HOSTILE}`, true)
    expectTerminalSafe(withoutOurColors(lines.join('\n')))
  })

  describe('--url postgres:// (the stats table)', () => {
    const sql = sqlClient()
    let table = ''
    beforeAll(async () => {
      const h = await startTransport()
      h.logger.info('one')
      await h.close()
      table = h.table
      const row = { received: 1, written: 1, [`sinks.${HOSTILE}.delivered`]: 2, 'sinks.__proto__.delivered': 7, 'sinks.constructor.failed': 3 }
      await sql`insert into ${sql(`${table}_stats`)} (writer_id, hostname, pid, started_at, updated_at, final, counters)
        values (${`w ${HOSTILE}`}, ${HOSTILE}, 1, now(), now(), true, ${JSON.stringify(row)}::text::jsonb)`
    })
    afterAll(() => sql.end())

    it('prints writer ids, hostnames and sink keys escaped; --json exact', async () => {
      const text = await sluice(['tail', '--url', databaseUrl(), '--table', table, '--count', '1'])
      expect(text.code).toBe(0)
      expectTerminalSafe(text.stdout)
      expect(text.stdout).toContain('  \\u001b]0;pwned\\u0007 ')
      const json = await sluice(['tail', '--url', databaseUrl(), '--table', table, '--count', '1', '--json'])
      expectTerminalSafe(json.stdout)
      const writer = JSON.parse(json.stdout).writers.find((w: { hostname: string }) => w.hostname === HOSTILE)
      expect(writer.writer_id).toBe(`w ${HOSTILE}`)
      expect(writer.sinks[HOSTILE]).toEqual({ delivered: 2, failed: 0 })
    })

    // Issue 27, item 13.
    it('a sink key __proto__ stays a sink name: no prototype is polluted, in the process or the output', async () => {
      const before = Object.getOwnPropertyNames(Object.prototype).length
      const { writers } = await readWriters(sql, { schema: 'public', table, sinceMs: 3_600_000 })
      expect(({} as Record<string, unknown>).delivered).toBeUndefined()
      expect((Object as unknown as Record<string, unknown>).failed).toBeUndefined()
      expect(Object.getOwnPropertyNames(Object.prototype)).toHaveLength(before)
      const hostile = writers.find((w) => w.hostname === HOSTILE)
      expect(Object.getOwnPropertyDescriptor(hostile?.sinks, '__proto__')?.value).toEqual({ delivered: 7, failed: 0 })
      expect(Object.getOwnPropertyDescriptor(hostile?.sinks, 'constructor')?.value).toEqual({ delivered: 0, failed: 3 })

      const text = await sluice(['tail', '--url', databaseUrl(), '--table', table, '--count', '1'])
      expect(text.stdout).toContain('sinks.__proto__.delivered=7 sinks.__proto__.failed=0')
      const json = await sluice(['tail', '--url', databaseUrl(), '--table', table, '--count', '1', '--json'])
      const writer = JSON.parse(json.stdout).writers.find((w: { hostname: string }) => w.hostname === HOSTILE)
      expect(Object.getOwnPropertyDescriptor(writer.sinks, '__proto__')?.value).toEqual({ delivered: 7, failed: 0 })
    })
  })
})
