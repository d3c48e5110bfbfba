import type { RetryWindow } from './backoff.js'
import type { Connections } from './connect.js'

/** A statement limit reaches the server this much before the client gives up, so a live server's own timeout error comes first. */
const CLIENT_GRACE_MS = 250

/** What an attempt that got no answer in time fails with (classified `retry`). */
function attemptTimeout(limitMs: number): Error {
  return Object.assign(new Error(`no answer from the database within ${limitMs} ms`), { code: 'ATTEMPT_TIMEOUT' })
}

/** When an attempt starting now must end (epoch ms). */
export function attemptEnd(window: RetryWindow): number {
  return Date.now() + window.attemptLimitMs()
}

/**
 * Runs one step of an attempt, which must end by `end` (epoch ms; `work` gets
 * the ms left, for the server's statement_timeout/lock_timeout). Past it, plus
 * a grace for the server's own timeout error to arrive, the sockets are
 * destroyed: on a stalled path nothing else ends a query that will never be
 * answered (postgres.js has no per-query timeout).
 */
export async function withinAttempt<T>(connections: Pick<Connections, 'dropAll'>, end: number, work: (limitMs: number) => Promise<T>): Promise<T> {
  const limitMs = Math.floor(end - Date.now())
  if (limitMs <= 0) throw attemptTimeout(0)
  const attempt = work(limitMs)
  let timer: NodeJS.Timeout | undefined
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      connections.dropAll()
      reject(attemptTimeout(limitMs))
    }, limitMs + CLIENT_GRACE_MS)
  })
  try {
    return await Promise.race([attempt, cut])
  } finally {
    clearTimeout(timer)
    attempt.catch(() => {})
  }
}
