/**
 * Where the processor counts a span it could not hand to the logger: the
 * transport's own counters, when the logger writes into createSluice()'s
 * destination (directly, or inside the pino.multistream
 * instrumentation-pino makes). A pino.transport() worker keeps its counters
 * in its own thread, out of reach: there such spans show in
 * processor.stats() only.
 */
import { destinationOf, type FlushableLogger, type FlushableStream } from './flush-logger.js'

export type SpanDiscardReason = 'span_level' | 'span_error'
type Counting = { countDiscarded: (reason: SpanDiscardReason) => void }

function counts(stream: unknown): stream is Counting {
  return typeof (stream as Partial<Counting> | undefined)?.countDiscarded === 'function'
}

/** The logger's counting destination, looked up once per discard (rare), so a logger built later still works. */
export function countDiscardedSpan(logger: FlushableLogger, reason: SpanDiscardReason): boolean {
  const stream: FlushableStream | undefined = destinationOf(logger)
  const candidates: unknown[] = [stream, ...(stream?.streams?.map((entry) => entry.stream) ?? [])]
  const target = candidates.find(counts)
  if (target === undefined) return false
  target.countDiscarded(reason)
  return true
}
