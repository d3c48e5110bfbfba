import { fileURLToPath } from 'node:url'
import { createStats, type SluiceStats, type StatsHandle } from './counters/stats.js'
import { assertCloneable } from './options/cloneable.js'
import { resolveOptions } from './options/resolve-options.js'
import type { SluiceOptions } from './options/sluice-options.js'
import { callerFiles, withResolvedSinkTargets } from './options/sink-targets.js'
import { insideSluiceWorker, SluiceInsideWorkerError } from './transport/inside-sluice-worker.js'
import { SluiceDestination } from './transport/sluice-destination.js'

/** The package's own worker entry, so apps need not know where `dist/` is. */
export const WORKER_ENTRY = fileURLToPath(new URL('./index.js', import.meta.url))

export interface Sluice {
  /**
   * Pass to `pino(transport)`: a destination that writes each line into a
   * shared-memory ring read by the worker, or drops and counts it at once
   * when the ring is full. Emits 'ready' when the worker runs and 'error' if
   * it dies.
   */
  readonly transport: SluiceDestination
  /** Live counters of the app thread and the worker. */
  readonly stats: StatsHandle
  /**
   * Resolves with the counters once everything logged so far is committed or
   * counted as dropped/failed. Never rejects for database trouble: while the
   * database cannot be reached it resolves within `postgres.retry.budgetMs`
   * (plus one connect timeout), and the counters say what happened
   * (`failed_db_unavailable`, or `received` above written + dropped + failed
   * for records still pending). Rejects only when the worker is gone.
   */
  flush(): Promise<SluiceStats>
  /**
   * Drains, commits and stops the worker (within `exit.budgetMs`), then
   * resolves; returns at once, the app's event loop keeps running meanwhile.
   * Safe to call more than once.
   */
  close(): Promise<void>
}

/**
 * The bounded path from the app thread to the database, with counters wired
 * up and promise-returning flush/close:
 *
 * ```js
 * const sluice = createSluice({ postgres: { url } })
 * const log = pino(sluice.transport)
 * closeOnSignals(sluice)          // SIGTERM/SIGINT: drain, commit, then exit
 * ```
 *
 * Options are validated here, on the app thread, so a mistake throws at once.
 * Throws SluiceInsideWorkerError when called inside pino-sluice's own worker
 * (the worker never runs the app's preloads; this is the backstop).
 */
export function createSluice(options: Omit<SluiceOptions, 'counters'> = {}): Sluice {
  if (insideSluiceWorker()) throw new SluiceInsideWorkerError()
  // Sink targets resolve from the caller, as pino resolves its own target.
  const withTargets = withResolvedSinkTargets(options, callerFiles())
  const resolved = resolveOptions(withTargets)
  assertCloneable(withTargets)
  const counters = createStats()
  const transport = new SluiceDestination(withTargets as Record<string, unknown>, resolved, counters.buffer)
  const stats: StatsHandle = {
    buffer: counters.buffer,
    readFlat: () => {
      transport.publishCounters()
      return counters.readFlat()
    },
    read: () => {
      transport.publishCounters()
      return counters.read()
    },
  }
  return {
    transport,
    stats,
    flush: () => new Promise((resolve, reject) => transport.flush((error) => (error ? reject(error) : resolve(stats.read())))),
    close: () => transport.close(),
  }
}
