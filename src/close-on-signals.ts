/**
 * SIGTERM/SIGINT handling for an app with a sluice: first the app's own
 * draining (`before`: close the server so in-flight requests finish, shut the
 * tracer provider down), then the sluice, then the signal's default course.
 * The sluice closes last because whatever is logged after it closes is
 * dropped (counted `dropped_closed`): see docs/opentelemetry.md#shutting-down-without-losing-spans.
 */
import { describe, OptionsError } from '../sinks/shared/option-reader.js'

export interface CloseOnSignalsOptions {
  /** Signals to handle. Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[]
  /**
   * Runs first, while the sluice still takes lines and spans: stop taking
   * work and let what is in flight finish (e.g. `server.close()` awaited,
   * then `provider.shutdown()`). Bounded by `beforeTimeoutMs`.
   */
  before?: () => unknown
  /** How long `before` may take before the sluice is closed anyway. Default 10000. */
  beforeTimeoutMs?: number
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']
const DEFAULT_BEFORE_TIMEOUT_MS = 10_000

function resolve(options: readonly NodeJS.Signals[] | CloseOnSignalsOptions | undefined): Required<CloseOnSignalsOptions> {
  if (options === undefined || Array.isArray(options)) return { signals: (options as readonly NodeJS.Signals[] | undefined) ?? DEFAULT_SIGNALS, before: () => {}, beforeTimeoutMs: DEFAULT_BEFORE_TIMEOUT_MS }
  const { signals = DEFAULT_SIGNALS, before = () => {}, beforeTimeoutMs = DEFAULT_BEFORE_TIMEOUT_MS } = options as CloseOnSignalsOptions
  if (typeof before !== 'function') throw new OptionsError(`closeOnSignals: before must be a function (e.g. async () => { await closeServer(); await provider.shutdown() }), got ${describe(before)}`)
  if (!Number.isInteger(beforeTimeoutMs) || beforeTimeoutMs <= 0) throw new OptionsError(`closeOnSignals: beforeTimeoutMs must be a positive integer of milliseconds, got ${describe(beforeTimeoutMs)}`)
  if (!Array.isArray(signals) || signals.length === 0) throw new OptionsError(`closeOnSignals: signals must be a non-empty array such as ['SIGTERM', 'SIGINT'], got ${describe(signals)}`)
  return { signals, before, beforeTimeoutMs }
}

/** Runs `before` within `timeoutMs`; a failure or a timeout is said once on stderr and the shutdown goes on. */
async function runBefore(before: () => unknown, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), timeoutMs)
  })
  try {
    const outcome = await Promise.race([Promise.resolve().then(before), timeout])
    if (outcome === 'timeout') process.stderr.write(`pino-sluice: closeOnSignals: before() did not finish within ${timeoutMs} ms; closing the sluice anyway\n`)
  } catch (error) {
    process.stderr.write(`pino-sluice: closeOnSignals: before() failed: ${error instanceof Error ? error.message : String(error)}; closing the sluice anyway\n`)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Installs SIGTERM/SIGINT handlers that run `before`, close the sluice (drain
 * and commit within the exit budget) and then let the signal take its default
 * course, so the process still exits with the signal's status (143 for
 * SIGTERM). A second signal during the shutdown takes its default course at
 * once. Returns a function that removes the handlers.
 */
export function closeOnSignals(sluice: { close(): Promise<void> }, options?: readonly NodeJS.Signals[] | CloseOnSignalsOptions): () => void {
  const { signals, before, beforeTimeoutMs } = resolve(options)
  const handler = (signal: NodeJS.Signals): void => {
    uninstall()
    runBefore(before, beforeTimeoutMs)
      .then(() => sluice.close())
      .finally(() => process.kill(process.pid, signal))
  }
  const uninstall = (): void => {
    for (const signal of signals) process.off(signal, handler)
  }
  for (const signal of signals) process.once(signal, handler)
  return uninstall
}
