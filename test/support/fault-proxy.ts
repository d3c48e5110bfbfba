/**
 * A real TCP proxy process between the transport and a real Postgres, to make
 * the database hang, reset connections, refuse with a SQLSTATE, or lose a
 * COMMIT in flight. It runs as a child process (fault-proxy.mjs), so it keeps
 * answering while pino's `transport.end()` blocks the test's thread.
 *
 * ```ts
 * const proxy = await startFaultProxy(db.server.url)
 * const h = await startTransport({ postgres: { url: proxy.url } })
 * await proxy.stall()            // the database now accepts and never answers
 * ```
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./fault-proxy.mjs', import.meta.url))

export interface FaultProxyStats {
  /** Client connections accepted so far. */
  connections: number
  /** BEGINs and COMMITs seen from clients (transactions attempted / finished). */
  begins: number
  commits: number
  interceptedCommits: number
  /** Client connections open now, and server sessions held open by `interceptCommits({ hold: true })`. */
  open: number
  held: number
}

export interface FaultProxy {
  /** The target's URL with the proxy's port in place of the server's. */
  readonly url: string
  readonly port: number
  /** Pass bytes both ways again (also un-stalls open connections). */
  forward(): Promise<void>
  /** Accept and never answer; open connections go silent both ways. */
  stall(): Promise<void>
  /** RST every open connection and every new one until `forward()`. */
  reset(): Promise<void>
  /** RST the connections open now; new ones are forwarded. */
  resetOpen(): Promise<void>
  /** New connections (and the next message on open ones) get a FATAL error with this SQLSTATE. */
  fail(code: string, message?: string): Promise<void>
  /**
   * The next `count` COMMITs: reset the client's connection as it sends COMMIT, and
   * deliver the COMMIT to the server `delayMs` later, or keep the server session open
   * inside its transaction (`hold`) until `release()`.
   */
  interceptCommits(plan: { count?: number; delayMs?: number; hold?: boolean; resetClient?: boolean }): Promise<void>
  /** Ends held server sessions: with `commit`, their COMMIT is delivered first; else they roll back. */
  release(options?: { commit?: boolean }): Promise<void>
  stats(): Promise<FaultProxyStats>
  close(): Promise<void>
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl)
  const child: ChildProcess = fork(SCRIPT, [target.hostname, target.port || '5432'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [ready] = (await once(child, 'message')) as [{ port: number }]
  const url = new URL(targetUrl)
  url.port = String(ready.port)
  let nextId = 0
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  child.on('message', (message: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiter || message.id === undefined) return
    pending.delete(message.id)
    if (message.ok) waiter.resolve(message.result)
    else waiter.reject(new Error(`fault proxy: ${message.error}`))
  })
  const send = <T = void>(command: string, args?: object): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      child.send({ id, command, args })
    })
  let closed: Promise<void> | undefined
  return {
    url: url.toString(),
    port: ready.port,
    forward: () => send('forward'),
    stall: () => send('stall'),
    reset: () => send('reset'),
    resetOpen: () => send('resetOpen'),
    fail: (code, message) => send('fail', { code, message }),
    interceptCommits: (plan) => send('interceptCommits', plan),
    release: (options) => send('release', options),
    stats: () => send<FaultProxyStats>('stats'),
    close() {
      closed ??= (async () => {
        if (child.exitCode !== null) return
        const exited = once(child, 'exit')
        await send('close').catch(() => {})
        await exited
      })()
      return closed
    },
  }
}
