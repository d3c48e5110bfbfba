/**
 * Every app in examples/ runs (built, from dist/examples) and does what its
 * header says: against the test database through DATABASE_URL, and once with
 * nothing given, on the embedded Postgres a newcomer gets.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { databaseUrl, sqlClient } from '../support/transport.js'

const run = promisify(execFile)
const EXAMPLES = fileURLToPath(new URL('../../dist/examples/', import.meta.url))

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

async function example(file: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [EXAMPLES + file], { env: { ...process.env, ...env }, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

const withDatabase = (): NodeJS.ProcessEnv => ({ DATABASE_URL: databaseUrl() })

function fastifyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('fastify')
    return true
  } catch {
    return false
  }
}
const hasFastify = fastifyInstalled()
if (!hasFastify) console.warn('SKIPPED: examples/fastify.ts needs fastify, which is not installed here (npm install fastify to run it)')

describe('examples', () => {
  it('plain-node: three lines in, three rows out, counters balanced', async () => {
    const result = await example('plain-node.js', withDatabase())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('received=3 written=3 dropped=0 failed=0')
    expect(result.stdout).toMatch(/50 {2}order failed/)
  })

  it('plain-node on the embedded defaults (no DATABASE_URL)', async () => {
    const result = await example('plain-node.js', { DATABASE_URL: '' })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('starting an embedded Postgres')
    expect(result.stdout).toContain('received=3 written=3 dropped=0 failed=0')
  })

  it('model-call: two traces with their tokens, cache hit ratio and cost from the price table', async () => {
    const result = await example('model-call.js', withDatabase())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    // 120 in, 80 out, 2000 cache writes: 120×1 + 80×5 + 2000×1.25 = 3020 µ$; then 2000 cache reads: 120 + 400 + 200.
    expect(result.stdout).toMatch(/2 spans, tokens in 120 out 80 cache read 0 write 2000, hit ratio 0\.000, cost \$0\.00302\n/)
    expect(result.stdout).toMatch(/2 spans, tokens in 120 out 80 cache read 2000 write 0, hit ratio 0\.943, cost \$0\.00072\n/)
    expect(result.stdout).toMatch(/log lines stored with trace_id [0-9a-f]{32}: 2\n/)
    expect(result.stdout).toContain('received=8 written=8 dropped=0 failed=0 spans=4')
  })

  it('opentelemetry: an HTTP handler traced with the OTel SDK, its GenAI span converted and priced, logs joined', async () => {
    const result = await example('opentelemetry.js', withDatabase())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    // OTel input 1000 includes 600 cache reads and 100 cache writes: 300 uncached. 300×1 + 50×5 + 600×0.1 + 100×1.25 = 735 µ$.
    const trace = /trace [0-9a-f]{32} GET \/ask: 2 spans, tokens in 300 out 50 cache read 600 write 100, hit ratio 0\.600, cost \$0\.000735, 2 log lines\n/g
    expect(result.stdout.match(trace)).toHaveLength(2)
    expect(result.stdout).toContain('trace 0af7651916cd43dd8448eb211c80319c GET /ask')
    expect(result.stdout).toContain("the second request's server span has the caller's span as its remote parent: true")
    expect(result.stdout).toContain('received=8 written=8 dropped=0 failed=0 spans=4')
  })

  it('webhook-sink: a custom fan-out sink forwards the error-level records to a webhook on loopback', async () => {
    const result = await example('webhook-sink.js', withDatabase())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('received=5 written=5 dropped=0 failed=0')
    expect(result.stdout).toContain('sinks.webhook delivered=5 failed=0')
    expect(result.stdout).toContain('the webhook got 2 records: 50 payment provider timed out | 60 out of disk space')
  })

  it('commonjs: require() of the package, one row', async () => {
    const result = await example('commonjs.cjs', withDatabase())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('received=1 written=1 dropped=0 failed=0')
  })

  it('graceful-shutdown: SIGTERM drains every line, then the process dies of the signal', async () => {
    const child = spawn(process.execPath, [EXAMPLES + 'graceful-shutdown.js'], { env: { ...process.env, ...withDatabase() } })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    const listening = new Promise<RegExpMatchArray>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /listening on (http:\S+) \(pid \d+, run ([0-9a-f-]{36})\)/.exec(stdout)
        if (match) resolve(match)
      })
      void exited.then(() => reject(new Error(`exited before listening: ${stdout} ${stderr}`)))
    })
    const [, address, run] = await listening
    const requests = 20
    for (let i = 0; i < requests; i++) expect(await (await fetch(`${address}/work/${i}`)).text()).toBe('ok\n')
    child.kill('SIGTERM')
    const [code, signal] = await exited
    expect(stderr).toBe('')
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' })
    // 'listening' + one line per request + 'shutting down', all committed before the process went.
    const lines = requests + 2
    expect(stdout).toContain(`drained: received=${lines} written=${lines} dropped=0 failed=0`)
    const sql = sqlClient()
    try {
      const [row] = await sql`select count(*)::int as n from example_shutdown_logs where data->>'run' = ${run ?? ''}`
      expect(row?.n).toBe(lines)
    } finally {
      await sql.end()
    }
  })

  it.skipIf(!hasFastify)('fastify: request logs through logger.transport and through loggerInstance on createSluice land in Postgres', async () => {
    const result = await example('fastify.js', withDatabase())
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/example_fastify_logs:\n(.*\n)* {2}3 × saying hello/)
    expect(result.stdout).toMatch(/example_fastify_ring_logs:\n(.*\n)* {2}3 × saying hello/)
  })

  it.skipIf(hasFastify)('fastify without fastify installed says how to get it and exits 1', async () => {
    const result = await example('fastify.js', withDatabase())
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('npm install fastify')
  })
})
