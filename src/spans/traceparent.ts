import { isSpanId, isTraceId } from '../../sinks/shared/ids.js'

/** The remote parent named by an incoming `traceparent` header. */
export interface RemoteParent {
  traceId: string
  spanId: string
  /** Trace flags byte (bit 0: sampled). */
  flags: number
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
// Later versions may append fields after the flags; they must still start with the version 00 layout.
const FUTURE_VERSION = /^([0-9a-e][0-9a-f]|f[0-9a-e])-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/**
 * Parses a W3C `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header).
 * Returns undefined for anything invalid (wrong layout, upper-case hex,
 * all-zero ids, version ff), so the caller starts a new trace instead of
 * joining a bogus one.
 */
export function parseTraceparent(header: unknown): RemoteParent | undefined {
  if (typeof header !== 'string') return undefined
  const text = header.trim()
  const match = text.startsWith('00-') ? VERSION_00.exec(text) : FUTURE_VERSION.exec(text)
  if (!match) return undefined
  const [traceId, spanId, flags] = text.startsWith('00-') ? [match[1], match[2], match[3]] : [match[2], match[3], match[4]]
  if (!isTraceId(traceId) || !isSpanId(spanId) || flags === undefined) return undefined
  return { traceId, spanId, flags: Number.parseInt(flags, 16) }
}

/** The header to send downstream so the callee's spans join this trace as children of `spanId`. */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`
}
