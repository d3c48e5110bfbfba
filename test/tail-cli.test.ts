import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freePort } from '../dev/local-postgres.js'
import { COUNTER_NAMES } from '../src/index.js'
import { expectBalanced, startTransport, type Harness } from './support/transport.js'

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
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
    expect(final).toContain('queued=0 ')
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
    const none = spawnSync(process.execPath, [CLI, 'tail'], { encoding: 'utf8' })
    expect(none.status).toBe(2)
    expect(none.stderr).toContain('give exactly one of --file <path>')
    const badInterval = spawnSync(process.execPath, [CLI, 'tail', '--file', 'x', '--interval', 'soon'], { encoding: 'utf8' })
    expect(badInterval.status).toBe(2)
    expect(badInterval.stderr).toContain('--interval must be an integer >= 50, got "soon"')
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
