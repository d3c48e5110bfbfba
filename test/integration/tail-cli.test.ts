import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../dev/local-postgres.js'
import { parseTail } from '../../src/cli/tail/tail-args.js'
import { COUNTER_NAMES } from '../../src/index.js'
import { databaseUrl, expectBalanced, startTransport, uniqueTable, type Harness } from '../support/transport.js'

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sluice-tail-'))

interface Tail {
  child: ChildProcess
  lines: string[]
  waitFor(predicate: (line: string) => boolean, what: string): Promise<string>
  exited: Promise<number | null>
}

function startTail(args: string[]): Tail {
  const child = spawn(process.execPath, [CLI, 'tail', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let carry = ''
  const waiters: (() => void)[] = []
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const parts = (carry + text).split('\n')
    carry = parts.pop() ?? ''
    lines.push(...parts)
    for (const wake of waiters.splice(0)) wake()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    child,
    lines,
    exited,
    async waitFor(predicate, what) {
      const deadline = Date.now() + 10_000
      for (;;) {
        const hit = lines.find(predicate)
        if (hit !== undefined) return hit
        if (Date.now() > deadline) throw new Error(`tail never printed ${what}; it printed:\n${lines.join('\n')}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
    },
  }
}

/** Bursts spaced out so the tail sees snapshots before and after each one. */
async function burstsWithDrops(h: Harness, bursts: number, size: number): Promise<number> {
  for (let b = 0; b < bursts; b++) {
    for (let i = 0; i < size; i++) h.logger.info({ b, i, payload: 'y'.repeat(100) }, 'burst')
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  return bursts * size
}

describe('sluice tail', () => {
  it('piped: waits for a missing file, then prints one line per update, marks drops, shows the final totals and exits 0 on SIGINT', async () => {
    const file = join(dir, 'piped.json')
    const tail = startTail(['--file', file, '--interval', '100'])
    const waiting = await tail.waitFor((l) => l.startsWith('# waiting:'), 'a waiting line')
    expect(waiting).toContain(`no stats file at ${file} yet`)

    const h = await startTransport({ stats: { file, intervalMs: 100 }, channel: { maxRecords: 200 }, exit: { report: false } })
    await tail.waitFor((l) => l.includes(' received='), 'a counters line')
    const emitted = await burstsWithDrops(h, 4, 20_000)
    const dropping = await tail.waitFor((l) => l.includes(' DROPPING '), 'a DROPPING line')
    expect(dropping).toMatch(/dropped=\d+ .*DROPPING overflow\+\d+$/)
    await h.close()
    const final = await tail.waitFor((l) => l.includes(' FINAL'), 'the final line')
    const s = h.stats.read()
    expect(final).toContain(`received=${emitted} `)
    expect(final).toContain(`written=${s.written} `)
    expect(final).toContain(`dropped=${s.dropped} `)
    expect(final).toContain('queued_records=0 ')
    await tail.waitFor((l) => l.startsWith('# the transport closed'), 'the closed status')
    // Every non-status line is one update: time, then key=value pairs.
    for (const line of tail.lines.filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z received=\d+ \((-|\d+\/s)\) written=\d+ /)
    expectBalanced(h.stats, expect)

    tail.child.kill('SIGINT')
    expect(await tail.exited).toBe(0)
  })

  it('--url --json: reads /stats from the loopback port and stops after --count updates', async () => {
    const port = await freePort()
    const tail = startTail(['--url', `http://127.0.0.1:${port}`, '--interval', '100', '--json', '--count', '3'])
    const waiting = await tail.waitFor((l) => l.includes('"status"'), 'a waiting status')
    expect(JSON.parse(waiting).status).toMatch(/nothing listening at http:\/\/127\.0\.0\.1:\d+\/stats yet/)
    const h = await startTransport({ stats: { port } })
    for (let i = 0; i < 1000; i++) h.logger.info({ i }, 'row')
    await h.flush()
    expect(await tail.exited).toBe(0)
    const updates = tail.lines.filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l))
    expect(updates).toHaveLength(3)
    expect(updates[0]).toMatchObject({ writer: { pid: process.pid }, rates: null })
    expect(updates[2].rates).toHaveProperty('received')
    expect(updates[2].counters.received).toBeLessThanOrEqual(1000)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('says when the snapshot is stale or not a pino-sluice snapshot, and keeps watching', async () => {
    const file = join(dir, 'stale.json')
    const old = Date.now() - 60_000
    const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0]))
    const snapshot = { schema: 1, timeMs: old, time: new Date(old).toISOString(), intervalMs: 1000, writer: { hostname: 'h', pid: 4242, threadId: 1, startedMs: old }, http: null, final: false, counters: { ...counters, received: 7, written: 7 } }
    writeFileSync(file, JSON.stringify(snapshot))
    const tail = startTail(['--file', file, '--interval', '100'])
    // The last totals are shown once, then the warning.
    await tail.waitFor((l) => l.includes('received=7 (-) written=7 (-)'), 'the last totals')
    const stale = await tail.waitFor((l) => l.startsWith('# stale:'), 'a stale warning')
    expect(stale).toMatch(/^# stale: last update \d+\.\d s ago from h:4242 \(publishes every 1000 ms\); has the app stopped\? Still watching/)
    writeFileSync(file, JSON.stringify({ ...snapshot, schema: 99 }))
    const wrong = await tail.waitFor((l) => l.includes('not a pino-sluice stats snapshot'), 'a wrong-schema warning')
    expect(wrong).toContain('unknown schema version 99')
    tail.child.kill('SIGINT')
    expect(await tail.exited).toBe(0)
  })

  it('refuses bad arguments with exit code 2 and says what to give', () => {
    const noDatabaseUrl = { ...process.env, DATABASE_URL: '' }
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'tail', ...args], { encoding: 'utf8', env: noDatabaseUrl })
    const none = run()
    expect(none.status).toBe(2)
    expect(none.stderr).toContain('give a source: --file <path> (an app\'s stats.file), --url http://127.0.0.1:<port> (its stats.port), or --url postgres://… or DATABASE_URL')
    const badInterval = run('--file', 'x', '--interval', 'soon')
    expect(badInterval.status).toBe(2)
    expect(badInterval.stderr).toContain('--interval must be an integer >= 50, got "soon"')
    // A flag without its value: what the value is, not node's "argument is ambiguous".
    const dbNoValue = run('--db', '--table', 'x')
    expect(dbNoValue.status).toBe(2)
    expect(dbNoValue.stderr).toMatch(/^sluice tail: --db needs a value: a postgres:\/\/ connection string \(--db is the old name of --url\); leave it out to use DATABASE_URL\n/)
    expect(dbNoValue.stderr).not.toContain('ambiguous')
    const urlNoValue = run('--url')
    expect(urlNoValue.stderr).toMatch(/^sluice tail: --url needs a value: http:\/\/127\.0\.0\.1:<port> .* or a postgres:\/\/ connection string/)
    const typo = run('--tabel', 'x')
    expect(typo.status).toBe(2)
    expect(typo.stderr).toMatch(/^sluice tail: unknown option --tabel\. Did you mean --table\?/)
    const mixed = run('--file', 'x', '--table', 'app_logs')
    expect(mixed.stderr).toContain('--table applies only when reading the database (--url postgres://… or DATABASE_URL)')
    const badTimeout = run('--file', 'x', '--timeout', 'soon')
    expect(badTimeout.stderr).toContain('--timeout must be a duration such as 30s, 2m or 500ms (0: no limit), got "soon"')
    const otherScheme = run('--url', 'mysql://root:secret@host/db')
    expect(otherScheme.stderr).toContain('--url must be http://127.0.0.1:<port> (an app\'s stats.port) or postgres://user:password@host:5432/dbname (or postgresql://) (the database), got a mysql:// URL')
    expect(otherScheme.stderr).not.toContain('secret')
  })

  it('--count without --timeout gives up after 30 s; following waits as long as it takes', () => {
    expect(parseTail(['--file', 'x', '--count', '1']).args.timeoutMs).toBe(30_000)
    expect(parseTail(['--file', 'x']).args.timeoutMs).toBeUndefined()
    expect(parseTail(['--file', 'x', '--count', '1', '--timeout', '0']).args.timeoutMs).toBeUndefined()
    expect(parseTail(['--file', 'x', '--timeout', '2m']).args.timeoutMs).toBe(120_000)
    expect(parseTail(['--file', 'x', '--timeout', '1.5']).args.timeoutMs).toBe(1500)
    expect(parseTail(['--file', 'x', '--timeout', '250ms']).args.timeoutMs).toBe(250)
  })

  it('--file on a missing path: lists the stats files next to it, then gives up at --timeout with exit 1', async () => {
    const near = mkdtempSync(join(tmpdir(), 'sluice-near-'))
    const real = join(near, 'checkout.sluice.json')
    const h = await startTransport({ stats: { file: real, intervalMs: 100 } })
    await h.close()
    writeFileSync(join(near, 'other.json'), '{"not":"a snapshot"}')
    // A tail that ignored --timeout is killed by spawnSync's own limit, and fails on its exit status.
    const tail = spawnSync(process.execPath, [CLI, 'tail', '--file', join(near, 'checkuot.sluice.json'), '--count', '1', '--timeout', '1s', '--interval', '100'], { encoding: 'utf8', timeout: 20_000 })
    expect(tail.status).toBe(1)
    expect(tail.stdout).toBe(`# waiting: no stats file at ${join(near, 'checkuot.sluice.json')} yet; is the app running with stats.file set to this path?; stats files in ${near}: ${real}\n`)
    expect(tail.stderr).toMatch(/^sluice tail: gave up after 1 s without an update \(--timeout; 0 waits as long as it takes\): waiting: no stats file at /)
    const noDir = spawnSync(process.execPath, [CLI, 'tail', '--file', join(near, 'nope', 'x.json'), '--count', '1', '--timeout', '200ms', '--interval', '100'], { encoding: 'utf8' })
    expect(noDir.status).toBe(1)
    expect(noDir.stdout).toContain(`(its directory ${join(near, 'nope')} does not exist)`)
  })

  // Issue 27, item 11: the endpoint is not trusted; a real HTTP server on loopback plays the hostile one.
  describe('--url against a hostile endpoint', () => {
    const sockets = new Set<Socket>()
    let sent = 0
    let server: Server
    let base = ''
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/huge') {
          // Streams as fast as the reader takes it, up to 64 MiB, and counts what went out.
          const chunk = Buffer.alloc(64 * 1024, 'x')
          response.writeHead(200, { 'content-type': 'application/json' })
          const pump = (): void => {
            while (sent < 64 * 1024 * 1024 && !response.destroyed) {
              sent += chunk.length
              if (!response.write(chunk)) return void response.once('drain', pump)
            }
            response.end()
          }
          pump()
        } else if (request.url === '/declared') {
          response.writeHead(200, { 'content-length': String(400 * 1024 * 1024) })
          response.write('{')
        } else {
          // One byte every 300 ms, never finishing within any sane timeout.
          response.writeHead(200, { 'content-type': 'application/json' })
          const drip = setInterval(() => (response.destroyed ? clearInterval(drip) : response.write(' ')), 300)
          response.once('close', () => clearInterval(drip))
        }
      })
      server.on('connection', (socket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const tail = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
        const started = Date.now()
        const child = spawn(process.execPath, [CLI, 'tail', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
        child.once('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
      })

    it('a server dripping one byte at a time cannot hold the tail past --timeout', async () => {
      const out = await tail(['--url', `${base}/drip`, '--count', '1', '--timeout', '2s'])
      expect(out.code).toBe(1)
      expect(out.ms).toBeLessThan(6000)
      expect(out.stdout).toMatch(/^# waiting: http:\/\/127\.0\.0\.1:\d+\/drip did not answer within \d+ ms\n/)
      expect(out.stderr).toMatch(/^sluice tail: gave up after 2 s without an update/)
    })

    it('a body past 1 MiB is cut off and reported, sent or only declared; the tail does not read on', async () => {
      const huge = await tail(['--url', `${base}/huge`, '--count', '1', '--timeout', '1s', '--interval', '200'])
      expect(huge.code).toBe(1)
      expect(huge.stdout).toMatch(/^# waiting: http:\/\/127\.0\.0\.1:\d+\/huge sent more than 1 MiB \(a pino-sluice \/stats answer is a few KB\); is this a pino-sluice stats\.port\?\n/)
      expect(huge.stderr).not.toContain('RangeError')
      // Each read stops right after 1 MiB; socket buffers let a little more go out.
      expect(sent).toBeLessThan(32 * 1024 * 1024)
      const declared = await tail(['--url', `${base}/declared`, '--count', '1', '--timeout', '500ms'])
      expect(declared.code).toBe(1)
      expect(declared.stdout).toContain('/declared sent more than 1 MiB')
    })
  })

  const hasScript = spawnSync('script', ['--version']).status === 0
  if (!hasScript) console.warn('`script` (util-linux) not found: skipping the TTY redraw check of sluice tail')
  it.skipIf(!hasScript)('on a terminal: redraws the screen in place and paints the dropped row while it moves', async () => {
    const file = join(dir, 'tty.json')
    const h = await startTransport({ stats: { file, intervalMs: 100 }, channel: { maxRecords: 200 }, exit: { report: false } })
    const tty = spawn('script', ['-qfec', `${process.execPath} ${CLI} tail --file ${file} --interval 100 --count 12`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let screen = ''
    tty.stdout?.setEncoding('utf8').on('data', (text: string) => (screen += text))
    const exited = new Promise<number | null>((resolve) => tty.once('exit', resolve))
    await new Promise((resolve) => setTimeout(resolve, 300))
    await burstsWithDrops(h, 3, 20_000)
    expect(await exited).toBe(0)
    await h.close()
    expect(screen).toContain('sluice tail')
    expect(screen).toMatch(/queue depth/)
    // Cursor moved back up over the previous screen, then cleared below: an in-place redraw.
    expect(screen).toMatch(/\x1b\[\d+F\x1b\[J/)
    expect(screen).toMatch(/\x1b\[1;41;97m {2}dropped .*DROPPING overflow\+\d+/)
    expectBalanced(h.stats, expect)
  })
})

describe('sluice tail on the database', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'tail', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.once('exit', (code) => resolve({ code, stdout, stderr }))
    })
  let table = ''
  // A schema of its own, so the list of stats tables (those in the schema asked for come first) is predictable.
  const schema = `tail_${process.pid}`
  beforeAll(async () => {
    const sql = postgres(databaseUrl(), { onnotice: () => {}, max: 1 })
    await sql`create schema if not exists ${sql(schema)}`
    await sql.end()
    table = uniqueTable('app_logs')
    const h = await startTransport({ postgres: { schema } }, table)
    h.logger.info('one')
    await h.close()
  })

  it('with the wrong --table: says which stats tables exist, hints --table, and gives up at --timeout (exit 1)', async () => {
    const wrong = await run(['--url', databaseUrl(), '--schema', schema, '--table', 'nope', '--count', '1', '--timeout', '1s', '--interval', '100'])
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toMatch(new RegExp(`^# waiting: no ${schema}\\.nope_stats table; stats tables here: ${schema}\\.${table}_stats \\(--table ${table} --schema ${schema}\\)`))
    expect(wrong.stdout).toMatch(/; pass --table with the logs table name\n$/)
    expect(wrong.stderr).toMatch(/sluice tail: gave up after 1 s without an update/)
  })

  it('reads DATABASE_URL when no source is given, and --db still works as the old name of --url', async () => {
    const fromEnv = await run(['--schema', schema, '--table', table, '--count', '1'], { ...process.env, DATABASE_URL: databaseUrl() })
    expect(fromEnv.code).toBe(0)
    expect(fromEnv.stdout).toMatch(/writers=1 received=1 written=1 dropped=0 failed=0/)
    expect(fromEnv.stderr).toBe('')
    const old = await run(['--db', databaseUrl(), '--schema', schema, '--table', table, '--count', '1', '--json'])
    expect(old.code).toBe(0)
    expect(JSON.parse(old.stdout).total).toMatchObject({ received: 1, written: 1 })
    expect(old.stderr).toBe('sluice: --db is the old name of --url; use --url, or better DATABASE_URL\n')
  })
})
