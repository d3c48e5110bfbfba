/**
 * Transient errors mean "try the same batch again later": the server is
 * unreachable, restarting, out of resources or asked us to retry. Anything
 * else is taken as a problem with the data, and the batch is split to find
 * the record at fault.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '40001', '40P01', '55P03', '57014', '57P01', '57P02', '57P03', '58000', '58030',
])

export function isTransient(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const code = String((error as { code?: unknown }).code ?? '')
  // 08: connection exception, 53: insufficient resources (disk full, out of memory, too many connections).
  return TRANSIENT_CODES.has(code) || code.startsWith('08') || code.startsWith('53')
}

/** A short description without connection details (which may hold credentials). */
export function describeError(error: unknown): string {
  if (error === null || typeof error !== 'object') return String(error)
  const { code, message } = error as { code?: unknown; message?: unknown }
  return `${String(code ?? 'error')}: ${String(message ?? '')}`.slice(0, 300)
}
