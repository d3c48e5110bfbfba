/**
 * The stats endpoint against hostile clients (issue 27 item 9): a `Host` it
 * was not configured for (DNS rebinding) is refused, and half-sent or idle
 * requests can neither pile up past a connection cap nor stay open past the
 * header timeout.
 */
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { COUNTER_NAMES, OptionsError, resolveOptions } from '../../src/index.js'
import { hostChecker } from '../../src/stats/allowed-host.js'
import { startStatsHttpServer, STATS_HTTP_LIMITS, type StatsHttpLimits } from '../../src/stats/stats-http-server.js'
import { takeSnapshot } from '../../src/stats/stats-snapshot.js'
import { expectBalanced, startTransport } from '../support/transport.js'

const zeros = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<(typeof COUNTER_NAMES)[number], number>
const snapshot = () => takeSnapshot({ intervalMs: 1000, startedMs: Date.now(), http: null, read: () => zeros })

/** GET with a chosen Host header (or none), over a fresh connection. */
function get(port: number, path: string, host: string | undefined, address = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, setHost: false, agent: false, headers: host === undefined ? {} : { host } }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A raw request line, for the HTTP/1.0 request without any Host (which http.request cannot send). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })
}

describe('the Host header (DNS rebinding)', () => {
  it('the transport endpoint refuses Host: attacker.example with 421 and answers the loopback names with or without the port', async () => {
    const h = await startTransport({ stats: { port: 0 }, exit: { report: false } })
    h.logger.info('one')
    await h.flush()
    const port = Number(new URL(await statsUrl(h)).port)
    const refused = await get(port, '/stats', 'attacker.example')
    expect(refused.status).toBe(421)
    expect(refused.body).not.toContain(String(process.pid))
    expect((await get(port, '/metrics', `attacker.example:${port}`)).status).toBe(421)
    expect((await get(port, '/stats', '127.0.0.1.attacker.example')).status).toBe(421)
    for (const host of ['127.0.0.1', `127.0.0.1:${port}`, 'localhost', `LOCALHOST:${port}`, '[::1]', `[::1]:${port}`]) {
      expect({ host, status: (await get(port, '/stats', host)).status }).toEqual({ host, status: 200 })
    }
    expect(await raw(port, 'GET /stats HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 421 /)
    await h.close()
    expectBalanced(h.stats, expect)
  })

  it('stats.host: the endpoint listens there, says so in the snapshot, and answers that host as well as the loopback names', async () => {
    // 127.0.0.2: an address of its own that is not one of the loopback names, without leaving this machine.
    const h = await startTransport({ stats: { port: 0, host: '127.0.0.2' }, exit: { report: false } })
    const url = new URL(await statsUrl(h))
    expect(url.hostname).toBe('127.0.0.2')
    const port = Number(url.port)
    const answered = await get(port, '/stats', `127.0.0.2:${port}`, '127.0.0.2')
    expect(answered.status).toBe(200)
    expect((JSON.parse(answered.body) as { http: unknown }).http).toEqual({ port, url: `http://127.0.0.2:${port}` })
    expect((await get(port, '/stats', `localhost:${port}`, '127.0.0.2')).status).toBe(200)
    expect((await get(port, '/stats', 'attacker.example', '127.0.0.2')).status).toBe(421)
    // Not on 127.0.0.1 any more.
    await expect(get(port, '/stats', '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await h.close()
  })

  it('bound to a wildcard (stats.host 0.0.0.0, a cluster scrape by pod address), also answers a Host that is an IP address, never a foreign name', () => {
    for (const wildcard of ['0.0.0.0', '::']) {
      const allowed = hostChecker(wildcard)
      expect(['10.1.2.3:9464', '[fd00::7]:9464', '127.0.0.1'].map(allowed)).toEqual([true, true, true])
      expect(['attacker.example', 'attacker.example:9464', '10.1.2.3.nip.io'].map(allowed)).toEqual([false, false, false])
    }
  })

  it('a configured host name is accepted besides the loopback names; malformed headers are not', () => {
    const allowed = hostChecker('metrics.internal')
    expect(['metrics.internal', 'METRICS.internal:9464', 'localhost:1', '[::1]:9464'].map(allowed)).toEqual([true, true, true, true])
    expect(['metrics.internal.evil', 'evil', '10.0.0.1', '', undefined, 'localhost:', 'localhost:abc', '[::1', 'a:b:c'].map(allowed)).toEqual(Array(9).fill(false))
    expect(hostChecker('127.0.0.1')('10.0.0.1')).toBe(false)
  })
})

describe('connection limits', () => {
  const limits: StatsHttpLimits = { maxConnections: 16, headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300, checkIntervalMs: 100 }

  /** Opens `count` connections in waves (so the listen backlog never overflows), each sending `text`; counts those still open. */
  async function openMany(port: number, count: number, text: string): Promise<{ sockets: Socket[]; open: () => number }> {
    const sockets: Socket[] = []
    let open = 0
    for (let wave = 0; wave < count / 250; wave++) {
      await Promise.all(
        Array.from({ length: Math.min(250, count - wave * 250) }, () => new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1')
          sockets.push(socket)
          // Reading, so the server's close (or its 408) reaches us as 'close'.
          socket.resume()
          socket.on('error', () => {})
          socket.once('close', () => {
            open--
            resolve()
          })
          socket.once('connect', () => {
            open++
            if (text) socket.write(text, () => resolve())
            else resolve()
          })
        })),
      )
    }
    return { sockets, open: () => open }
  }
  // Headers never finished: no blank line.
  const HALF_SENT = 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n'

  it('3,000 half-sent requests hold at most maxConnections connections (the rest are closed as they arrive)', async () => {
    // Timeouts out of the way: only the cap is at work here.
    const server = await startStatsHttpServer(0, '127.0.0.1', snapshot, { ...limits, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 })
    const { sockets, open } = await openMany(server.port, 3000, HALF_SENT)
    try {
      expect(sockets).toHaveLength(3000)
      await expect.poll(open, { timeout: 5000, interval: 20 }).toBe(limits.maxConnections)
    } finally {
      for (const socket of sockets) socket.destroy()
      await server.close()
    }
  })

  it('the connections it keeps, half-sent or idle, are closed by the header timeout, and the endpoint answers again', async () => {
    const server = await startStatsHttpServer(0, '127.0.0.1', snapshot, limits)
    const halfSent = await openMany(server.port, limits.maxConnections / 2, HALF_SENT)
    const idle = await openMany(server.port, limits.maxConnections / 2, '')
    const opened = Date.now()
    try {
      expect(halfSent.open() + idle.open()).toBe(limits.maxConnections)
      // headersTimeoutMs (300) checked every checkIntervalMs (100).
      await expect.poll(() => halfSent.open() + idle.open(), { timeout: 3000, interval: 20 }).toBe(0)
      expect(Date.now() - opened).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50)
      expect((await get(server.port, '/stats', '127.0.0.1')).status).toBe(200)
    } finally {
      for (const socket of [...halfSent.sockets, ...idle.sockets]) socket.destroy()
      await server.close()
    }
  })

  it('the defaults: 32 connections, 5 s for headers, 10 s per request, 5 s idle between requests', () => {
    expect(STATS_HTTP_LIMITS).toEqual({ maxConnections: 32, headersTimeoutMs: 5000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5000, checkIntervalMs: 1000 })
  })

  it('the transport endpoint applies the default cap: of 100 half-sent requests, 68 are closed at once', async () => {
    const h = await startTransport({ stats: { port: 0 }, exit: { report: false } })
    const port = Number(new URL(await statsUrl(h)).port)
    const sockets: Socket[] = []
    let closed = 0
    await Promise.all(
      Array.from({ length: 100 }, () => new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('GET /stats HTTP/1.1\r\n', () => resolve()))
        sockets.push(socket)
        socket.resume()
        socket.on('error', () => {})
        socket.once('close', () => {
          closed++
          resolve()
        })
      })),
    )
    await expect.poll(() => closed, { timeout: 5000, interval: 20 }).toBeGreaterThanOrEqual(100 - STATS_HTTP_LIMITS.maxConnections)
    for (const socket of sockets) socket.destroy()
    await h.close()
  })
})

describe('options.stats.host', () => {
  const resolveStats = (stats: unknown) => resolveOptions({ postgres: { url: 'postgres://x@127.0.0.1/db' }, stats }).stats

  it('defaults to 127.0.0.1, takes an address or a host name', () => {
    expect(resolveStats({ port: 9464 })).toMatchObject({ host: '127.0.0.1' })
    expect(resolveStats({ port: 9464, host: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0' })
    expect(resolveStats({ port: 9464, host: '::' })).toMatchObject({ host: '::' })
    expect(resolveStats({ port: 9464, host: 'Metrics.Internal' })).toMatchObject({ host: 'metrics.internal' })
  })

  it.each([
    [{ port: 9464, host: 'http://0.0.0.0' }, /options\.stats\.host must be an IP address or a host name \(no scheme, port or path\), got "http:\/\/0\.0\.0\.0"/],
    [{ port: 9464, host: '0.0.0.0:9464' }, /options\.stats\.host must be an IP address or a host name/],
    [{ port: 9464, host: '[::1]' }, /options\.stats\.host takes an IPv6 address without brackets, got "\[::1\]"\. Write '::1'\./],
    [{ port: 9464, host: '' }, /options\.stats\.host must be a non-empty string/],
    [{ file: '/tmp/x.json', host: '0.0.0.0' }, /options\.stats\.host is set \("0\.0\.0\.0"\) but stats\.port is not/],
  ])('refuses %j naming the option and the fix', (stats, message) => {
    expect(() => resolveStats(stats)).toThrow(OptionsError)
    expect(() => resolveStats(stats)).toThrow(message)
  })
})

/** The endpoint's URL: with port 0 and no stats file, the worker prints "stats on http://…/metrics and /stats". */
async function statsUrl(h: Awaited<ReturnType<typeof startTransport>>): Promise<string> {
  const announced = () => /stats on (http:\/\/[^/\s]+)\/metrics/.exec(h.stderr())?.[1]
  await expect.poll(announced, { timeout: 5000 }).toBeTruthy()
  return `${announced()}/stats`
}
