import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createStats, type SluiceStats, type StatsHandle } from './counters/stats.js'
import type { SluiceOptions } from './options/sluice-options.js'

/** The package's own worker entry, so apps need not know where `dist/` is. */
export const WORKER_ENTRY = fileURLToPath(new URL('./index.js', import.meta.url))

export interface SluiceTransportOptions {
  /**
   * thread-stream's write mode. `true` (default here) copies each line into
   * the 4 MiB ring at once, waiting only while the ring is full, i.e. only for
   * the worker's reading, which never waits on the database: app memory stays
   * flat in a burst. `false` is pino's default: lines pile up in an unbounded
   * array on the app thread until the app yields to the event loop (a 1M-line
   * tight loop buffers it all; measured in bench/).
   */
  sync?: boolean
}

export interface Sluice {
  /** Pass to `pino(transport)`. */
  readonly transport: ReturnType<typeof pino.transport>
  /** Live counters of the worker. */
  readonly stats: StatsHandle
  /**
   * Resolves with the counters once everything logged so far is committed or
   * counted as dropped/failed. Never rejects for database trouble: while the
   * database cannot be reached it resolves within `postgres.retry.budgetMs`
   * (plus one connect timeout), and the counters say what happened
   * (`failedBy.db_unavailable`, or `received` above written + dropped + failed
   * for records still pending). Rejects only when the worker is gone.
   */
  flush(): Promise<SluiceStats>
  /**
   * Drains, commits and stops the worker (within `exit.budgetMs`), then
   * resolves. Safe to call more than once.
   */
  close(): Promise<void>
}

/**
 * Transports with a flush or close pending. thread-stream holds its stream
 * only weakly once the worker is ready, and a collected stream has its worker
 * terminated: an app that awaits `flush()` without keeping the sluice would
 * lose the worker (and every pending record, silently) at the next GC.
 */
const pending = new Map<object, number>()

function holdWhile<T>(transport: object, work: Promise<T>): Promise<T> {
  pending.set(transport, (pending.get(transport) ?? 0) + 1)
  const release = (): void => {
    const left = (pending.get(transport) ?? 1) - 1
    if (left > 0) pending.set(transport, left)
    else pending.delete(transport)
  }
  work.then(release, release)
  return work
}

/**
 * A transport with its counters wired up and promise-returning flush/close,
 * for apps that want graceful shutdown:
 *
 * ```js
 * const sluice = createSluice({ postgres: { url } })
 * const log = pino(sluice.transport)
 * closeOnSignals(sluice)          // SIGTERM/SIGINT: drain, commit, then exit
 * ```
 */
export function createSluice(options: Omit<SluiceOptions, 'counters'> = {}, { sync = true }: SluiceTransportOptions = {}): Sluice {
  const stats = createStats()
  // pino.transport() honours `sync` (it hands it to thread-stream) but its types omit it.
  const modeOption = { sync } as unknown as Record<string, never>
  const transport = pino.transport({ target: WORKER_ENTRY, ...modeOption, options: { ...options, counters: stats.buffer } })
  let closing: Promise<void> | undefined
  return {
    transport,
    stats,
    flush: () =>
      holdWhile(
        transport,
        new Promise<SluiceStats>((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve(stats.read())))),
      ),
    close() {
      closing ??= holdWhile(transport, (async () => {
        // pino unrefs the worker; without a ref the app could exit before the worker reports back.
        ;(transport as unknown as { ref(): void }).ref()
        // 'finish' comes once the worker has drained and closed; 'close' also when it died.
        const done = Promise.race([once(transport, 'finish'), once(transport, 'close')])
        transport.end()
        await done
      })())
      return closing
    },
  }
}

/**
 * Installs SIGTERM/SIGINT handlers that close the sluice (drain and commit
 * within the exit budget) and then let the signal take its default course, so
 * the process still exits with the signal's status. Returns a function that
 * removes the handlers.
 */
export function closeOnSignals(sluice: Pick<Sluice, 'close'>, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    uninstall()
    sluice.close().finally(() => process.kill(process.pid, signal))
  }
  const uninstall = (): void => {
    for (const signal of signals) process.off(signal, handler)
  }
  for (const signal of signals) process.once(signal, handler)
  return uninstall
}
