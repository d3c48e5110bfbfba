import { randomFillSync } from 'node:crypto'

/**
 * W3C trace-context ids: 16 random bytes for a trace, 8 for a span, as
 * lower-case hex. One `randomFillSync` call fills a pool for many ids, so a
 * span costs a buffer slice instead of a syscall.
 */
const POOL_BYTES = 4096
const pool = Buffer.allocUnsafe(POOL_BYTES)
let offset = POOL_BYTES

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool)
      offset = 0
    }
    const start = offset
    offset += bytes
    // An all-zero id is invalid in trace-context; draw again (odds 2^-64 or less).
    for (let i = start; i < offset; i++) if (pool[i] !== 0) return pool.toString('hex', start, offset)
  }
}

export function newTraceId(): string {
  return randomHex(16)
}

export function newSpanId(): string {
  return randomHex(8)
}

export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/
export const SPAN_ID_PATTERN = /^[0-9a-f]{16}$/
const ZERO_TRACE_ID = '0'.repeat(32)
const ZERO_SPAN_ID = '0'.repeat(16)

export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && TRACE_ID_PATTERN.test(value) && value !== ZERO_TRACE_ID
}

export function isSpanId(value: unknown): value is string {
  return typeof value === 'string' && SPAN_ID_PATTERN.test(value) && value !== ZERO_SPAN_ID
}
