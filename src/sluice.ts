import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createStats, type StatsHandle } from './counters/stats.js'
import type { SluiceOptions } from './options/sluice-options.js'
import { callerFiles, withResolvedSinkTargets } from './options/sink-targets.js'

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
  /** Resolves once everything logged so far is committed (or counted as dropped/failed). */
  flush(): Promise<void>
  /**
   * Drains, commits and stops the worker (within `exit.budgetMs`), then
   * resolves. Safe to call more than once.
   */
  close(): Promise<void>
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
  // Sink targets resolve from the caller, as pino resolves its own target.
  const resolved = withResolvedSinkTargets(options, callerFiles())
  const transport = pino.transport({ target: WORKER_ENTRY, ...modeOption, options: { ...resolved, counters: stats.buffer } })
  let closing: Promise<void> | undefined
  return {
    transport,
    stats,
    flush: () => new Promise((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve()))),
    close() {
      closing ??= (async () => {
        // pino unrefs the worker; without a ref the app could exit before the worker reports back.
        ;(transport as unknown as { ref(): void }).ref()
        // 'finish' comes once the worker has drained and closed; 'close' also when it died.
        const done = Promise.race([once(transport, 'finish'), once(transport, 'close')])
        transport.end()
        await done
      })()
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
