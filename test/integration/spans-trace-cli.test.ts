/**
 * `sluice trace <trace_id>`: the built CLI, run as a child process against
 * a trace written through the real transport.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, sluiceMixin } from '../../src/index.js'
import { databaseUrl, expectBalanced, startTransport, type Harness } from '../support/transport.js'

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('sluice trace', () => {
  let h: Harness
  let traceId = ''
  const huge = 2n ** 60n

  beforeAll(async () => {
    h = await startTransport()
    const logger = pino({ mixin: sluiceMixin }, h.transport)
    const tracer = createTracer(logger)
    await tracer.span('handle request', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, async (root) => {
      traceId = root.traceId
      logger.info({ path: '/answer' }, 'request received')
      await tracer.span('llm.call', async (span) => {
        span.recordUsage({ model: 'opus', inputTokens: 1200, outputTokens: 340, cacheReadTokens: huge, cacheCreationTokens: 0, costUsd: 0.0123 })
        span.recordUsage({ model: 'haiku', inputTokens: 10, outputTokens: 2, costUsd: 0.0001 })
        logger.info('model answered')
      })
      await tracer.span('save', async () => {
        throw new Error('disk full')
      }).catch(() => {})
    })
    await h.close()
    expectBalanced(h.stats, expect)
  })
  afterAll(() => h?.close())

  it('prints the span tree with status, durations, tokens, cost and the logs inside each span', async () => {
    const { code, stdout } = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', h.table])
    expect(code).toBe(0)
    const lines = stdout.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^trace ${traceId}  ·  3 spans  ·  1 error  ·  [0-9.]+ (ms|s)  ·  tokens in 1,210 out 342 cache read ${huge.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')} write 0 \\(hit 100.0%\\)  ·  \\$0.0124$`))
    const body = lines.slice(1).join('\n')
    expect(body).toMatch(/^handle request {2}ok {2}[0-9.]+ ms/m)
    expect(body).toMatch(/^├─ \d\d:\d\d:\d\d\.\d{3} INFO {2}request received \{"path":"\/answer"\}$/m)
    expect(body).toMatch(/^├─ llm\.call {2}ok {2}[0-9.]+ ms {2}in 1,210 out 342 cache read .* {2}\$0\.0124$/m)
    expect(body).toMatch(/^│ {2}├─ model haiku: in 10 out 2 cache read 0 write 0 \(hit 0\.0%\) {2}\$0\.0001$/m)
    expect(body).toMatch(/^│ {2}├─ model opus: in 1,200 out 340 /m)
    expect(body).toMatch(/^│ {2}└─ \d\d:\d\d:\d\d\.\d{3} INFO {2}model answered$/m)
    expect(body).toMatch(/^└─ save {2}ERROR {2}[0-9.]+ ms {2}Error: disk full$/m)
  })

  it('--json gives the same tree as data, with counts beyond 2^53 as strings', async () => {
    const { code, stdout } = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', h.table, '--json'])
    expect(code).toBe(0)
    const tree = JSON.parse(stdout)
    expect(tree.traceId).toBe(traceId)
    expect(tree.totals).toMatchObject({ spans: 3, errors: 1, input: 1210, output: 342, cacheRead: huge.toString() })
    expect(tree.roots).toHaveLength(1)
    const root = tree.roots[0]
    // The incoming traceparent's span is the root's remote parent.
    expect(root.span).toMatchObject({ name: 'handle request', parentSpanId: 'b7ad6b7169203331' })
    expect(root.logs.map((l: { msg: string }) => l.msg)).toEqual(['request received'])
    expect(root.children.map((c: { span: { name: string } }) => c.span.name)).toEqual(['llm.call', 'save'])
    expect(root.children[0].span.models).toEqual([
      { model: 'haiku', input: 10, output: 2, cacheRead: 0, cacheCreation: 0, costUsd: 0.0001 },
      { model: 'opus', input: 1200, output: 340, cacheRead: huge.toString(), cacheCreation: 0, costUsd: 0.0123 },
    ])
  })

  it('sluice costs sums calls, tokens (exact beyond 2^53) and cost by model and day, by trace and by span name', async () => {
    const day = new Date().toISOString().slice(0, 10)
    const byModel = await sluice(['costs', '--url', databaseUrl(), '--table', h.table, '--json'])
    expect(byModel.code).toBe(0)
    expect(JSON.parse(byModel.stdout)).toEqual([
      { group: `opus  ${day}`, calls: 1, unpriced: 0, input: '1200', output: '340', cache_read: huge.toString(), cache_creation: '0', cost_usd: 0.0123 },
      { group: `haiku  ${day}`, calls: 1, unpriced: 0, input: '10', output: '2', cache_read: '0', cache_creation: '0', cost_usd: 0.0001 },
    ])
    const byTrace = await sluice(['costs', '--by', 'trace', '--since', '1d', '--url', databaseUrl(), '--table', h.table])
    expect(byTrace.stdout).toBe(`# trace  ·  calls  ·  tokens  ·  cost\n${traceId}  2 calls  in 1,210 out 342 cache read ${huge.toLocaleString('en-US')} write 0  $0.0124\n`)
    const bySpan = await sluice(['costs', '--by', 'span', '--url', databaseUrl(), '--table', h.table, '--json'])
    expect(JSON.parse(bySpan.stdout)).toMatchObject([{ group: 'llm.call', calls: 2 }])
    const wrong = await sluice(['costs', '--by', 'route', '--url', databaseUrl()])
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringContaining('--by must be model, day, trace or span, got "route"') })
  })

  it('refuses a malformed trace id with exit code 2 and says nothing is stored for an unknown one (exit 1)', async () => {
    const bad = await sluice(['trace', 'xyz', '--url', databaseUrl()])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('"xyz" is not a trace id (32 lower-case hex characters')
    const unknown = await sluice(['trace', 'f'.repeat(32), '--url', databaseUrl(), '--table', h.table])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toContain('(no spans or logs stored for this trace)')
    expect(unknown.stderr).toContain(`nothing stored for trace ${'f'.repeat(32)}`)
  })
  it('with the wrong --table (or the default logs): names the missing spans table, lists the spans tables there are and suggests --table', async () => {
    // A schema of its own, so the list (those in the schema asked for come first) is predictable in a shared database.
    const schema = `hint_${process.pid}`
    const sql = postgres(databaseUrl(), { onnotice: () => {}, max: 1 })
    await sql`create schema if not exists ${sql(schema)}`
    await sql.end()
    const other = await startTransport({ postgres: { schema } })
    await createTracer(pino({ mixin: sluiceMixin }, other.transport)).span('elsewhere', () => undefined)
    await other.close()
    const wrong = await sluice(['trace', traceId, '--url', databaseUrl(), '--schema', schema, '--table', 'nope'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(new RegExp(`^sluice trace: no table ${schema}\\.nope_spans; spans tables here: ${schema}\\.${other.table}_spans \\(--table ${other.table} --schema ${schema}\\)(, | and \\d+ more;)`))
    expect(wrong.stderr).toMatch(/; pass --table with the logs table name\n$/)
    expect(wrong.stderr).not.toContain('does not exist')
    const byDefault = await sluice(['trace', traceId], { DATABASE_URL: databaseUrl() })
    expect(byDefault.stderr).toMatch(/^sluice trace: (no table public\.logs_spans \(--table defaults to logs\); spans tables here: |nothing stored for trace)/)
  })

  it('takes the database from DATABASE_URL, the old --db too, and explains flag mistakes', async () => {
    const fromEnv = await sluice(['trace', traceId, '--table', h.table], { DATABASE_URL: databaseUrl() })
    expect(fromEnv.code).toBe(0)
    expect(fromEnv.stdout).toContain('handle request')
    const old = await sluice(['trace', traceId, '--db', databaseUrl(), '--table', h.table])
    expect(old.code).toBe(0)
    expect(old.stderr).toContain('--db is the old name of --url')
    const typo = await sluice(['trace', traceId, '--tabel', h.table])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/^sluice trace: unknown option --tabel\. Did you mean --table\?/)
    const noValue = await sluice(['trace', traceId, '--url', '--table', h.table])
    expect(noValue.code).toBe(2)
    expect(noValue.stderr).toMatch(/^sluice trace: --url needs a value: a postgres:\/\/ connection string; leave --url out to use DATABASE_URL\n/)
    const none = await sluice(['trace', traceId], { DATABASE_URL: '' })
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('give --url postgres://… or set DATABASE_URL (the environment keeps the password out of ps)')
    const both = await sluice(['prune', '--retention', '1d', '--url', databaseUrl(), '--db', databaseUrl()])
    expect(both.stderr).toContain('give the database once: --url (--db is its old name)')
  })

  // Issue 27, item 6: a key=value string in DATABASE_URL often starts with the password.
  it('never echoes a DATABASE_URL or --url that is not a postgres URL, and says what shape is expected', async () => {
    const secret = 'password=Sup3rSecret host=db.internal user=app'
    for (const [args, env] of [[[], { DATABASE_URL: secret }], [['--url', secret], {}], [['--url', 'Sup3rSecret@db.internal/app'], {}]] as const) {
      const out = await sluice(['trace', traceId, ...args], env)
      expect(out.code).toBe(2)
      expect(out.stderr).not.toContain('Sup3r')
      expect(out.stderr).toMatch(/^sluice trace: (DATABASE_URL|--url) must be a connection URL of the shape postgres:\/\/user:password@host:5432\/dbname \(or postgresql:\/\/\), got (a key=value connection string \(its value is not shown\); write it as a URL|something else \(its value is not shown\))\n/)
    }
    const tail = await sluice(['tail', '--count', '1'], { DATABASE_URL: secret })
    expect(tail.code).toBe(2)
    expect(tail.stderr).not.toContain('Sup3r')
    expect(tail.stderr).toContain('DATABASE_URL must be a connection URL of the shape postgres://user:password@host:5432/dbname')
    const tailUrl = await sluice(['tail', '--url', secret, '--count', '1'])
    expect(tailUrl.stderr).not.toContain('Sup3r')
    expect(tailUrl.stderr).toContain('got a key=value connection string (its value is not shown)')
  })
})

// Issue 27, item 8: a client picks the trace id, so one trace can hold millions of rows.
describe('sluice trace --limit', () => {
  const sql = postgres(databaseUrl(), { onnotice: () => {}, max: 1 })
  let table = ''
  const traceId = 'abcdef0123456789abcdef0123456789'
  beforeAll(async () => {
    const h = await startTransport()
    h.logger.info('creates the tables')
    await h.close()
    table = h.table
    const spanId = (i: number): string => i.toString(16).padStart(16, '0')
    // A root span and 11 children, 2 of them errors; 10,005 log lines inside the root.
    await sql`
      insert into ${sql(`${table}_spans`)} (trace_id, span_id, parent_span_id, name, start_time, end_time, duration_ms, status, input_tokens, cost_usd, writer_id, seq)
      select ${traceId}, lpad(to_hex(i + 1), 16, '0'), case when i = 0 then null else ${spanId(1)} end, 'span ' || i,
        '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 ms', '2026-01-01T00:00:00Z'::timestamptz + (i + 1) * interval '1 ms' + case when i = 0 then interval '1 s' else interval '0' end,
        1, case when i in (3, 7) then 'error' else 'ok' end, 10, 0.5, 'w', i
      from generate_series(0, 11) i`
    await sql`
      insert into ${sql(table)} (time, level, msg, writer_id, seq, trace_id, span_id)
      select '2026-01-01T00:00:00.5Z'::timestamptz + i * interval '1 microsecond', 30, 'line ' || i, 'w', 100 + i, ${traceId}, ${spanId(1)}
      from generate_series(0, 10004) i`
  })
  afterAll(() => sql.end())

  it('shows the first 10,000 log lines by default and says how many more there are', async () => {
    const out = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', table])
    expect(out.code).toBe(0)
    expect(out.stdout.match(/ INFO {2}line \d+/g)).toHaveLength(10_000)
    expect(out.stdout).toContain('INFO  line 9999\n')
    expect(out.stdout).not.toContain('line 10000')
    expect(out.stdout).toMatch(/\n5 more log lines of this trace not shown \(--limit 10000, the earliest first; the totals count every span; --limit 0 shows all\)\n$/)
  })

  it('--limit n cuts spans and logs in the database; the totals still count every span; --json says what was left out', async () => {
    const out = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', table, '--limit', '5'])
    expect(out.code).toBe(0)
    expect(out.stdout.split('\n')[0]).toMatch(/^trace abcdef0123456789abcdef0123456789 {2}· {2}12 spans {2}· {2}2 errors {2}· {2}1\.00 s {2}· {2}tokens in 120 out 0 .* {2}· {2}\$6\.0000$/)
    expect(out.stdout.match(/span \d+ {2}(ok|ERROR)/g)).toHaveLength(5)
    expect(out.stdout.match(/ INFO {2}line \d+/g)).toHaveLength(5)
    expect(out.stdout).toContain('7 more spans and 10,000 more log lines of this trace not shown (--limit 5,')
    const json = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', table, '--limit', '5', '--json'])
    const tree = JSON.parse(json.stdout)
    expect(tree.omitted).toEqual({ spans: 7, logs: 10_000 })
    expect(tree.totals).toMatchObject({ spans: 12, errors: 2, input: 120, costUsd: 6 })
  })

  it('--limit 0 shows every row; a bad --limit is a usage error', async () => {
    const all = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', table, '--limit', '0', '--json'])
    const tree = JSON.parse(all.stdout)
    expect(tree.omitted).toEqual({ spans: 0, logs: 0 })
    expect(tree.roots[0].logs).toHaveLength(10_005)
    const bad = await sluice(['trace', traceId, '--url', databaseUrl(), '--table', table, '--limit', 'lots'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--limit must be a whole number of rows (0: no limit), got "lots"')
  })
})
