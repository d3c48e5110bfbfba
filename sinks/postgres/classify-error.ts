/**
 * What an error from Postgres (or from the way to it) says about a batch:
 *
 * - `retry`: the server cannot take writes right now (unreachable, restarting,
 *   read-only during a failover, out of connections or disk, our own
 *   statement/lock timeout). Nothing is wrong with the records: the same batch
 *   is retried with backoff within `postgres.retry.budgetMs`, then counted
 *   `failed_db_unavailable`.
 * - `record`: the server refused the content of some record (bad data,
 *   a constraint). Only these are bisected to isolate the records at fault,
 *   which are counted `failed_db_rejected`. A `23505` whose records the
 *   commit ledger shows committed is the exception: an earlier attempt did
 *   commit, and the sink counts those records written (see write-attempts.ts).
 * - `setup`: the server refuses us whatever we send (credentials, permissions,
 *   a missing database, table or column). Bisecting would only turn every
 *   record into a rejection; the batch is counted `failed_db_unavailable` at
 *   once and the problem reported.
 *
 * The first rule that matches wins; an error matching none is taken as `record`
 * (the conservative choice: bisecting isolates it, the rest of the batch is written).
 */
export type ErrorVerdict = 'retry' | 'record' | 'setup'

export interface ClassificationRule {
  /** Exact codes (SQLSTATE, Node's errno codes, postgres.js's own codes) or, ending in `*`, an SQLSTATE class. */
  readonly codes: readonly string[]
  readonly verdict: ErrorVerdict
  readonly why: string
}

export const CLASSIFICATION: readonly ClassificationRule[] = [
  {
    codes: ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'],
    verdict: 'retry',
    why: 'no connection to the server',
  },
  {
    codes: ['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ATTEMPT_TIMEOUT'],
    verdict: 'retry',
    why: 'the connection died or did not answer in time (postgres.js, or our own attempt limit)',
  },
  { codes: ['08*'], verdict: 'retry', why: 'connection exception' },
  { codes: ['25006'], verdict: 'retry', why: 'read-only transaction: a standby, or a primary being failed over' },
  { codes: ['57P01', '57P02', '57P03', '57P05'], verdict: 'retry', why: 'server shutting down, crashed, starting up, or closed an idle session' },
  { codes: ['53*'], verdict: 'retry', why: 'insufficient resources: disk full, out of memory, too many connections' },
  { codes: ['57014', '55P03', '25P03'], verdict: 'retry', why: 'statement, lock or idle timeout (ours, bounded by the retry budget)' },
  { codes: ['40001', '40P01'], verdict: 'retry', why: 'serialization failure or deadlock' },
  { codes: ['58000', '58030'], verdict: 'retry', why: 'system or I/O error on the server' },
  { codes: ['28*', '3D000', '42501', '42P01', '42703', '3F000'], verdict: 'setup', why: 'credentials, permissions, or a missing database, schema, table or column' },
  { codes: ['22*'], verdict: 'record', why: 'data exception: a value the column cannot hold' },
  { codes: ['23*'], verdict: 'record', why: 'integrity constraint (not null, check, foreign key, unique)' },
  { codes: ['54*'], verdict: 'record', why: 'program limit exceeded: a row or index entry too large' },
]

function matches(rule: ClassificationRule, code: string): boolean {
  return rule.codes.some((pattern) => (pattern.endsWith('*') ? code.length === 5 && code.startsWith(pattern.slice(0, -1)) : code === pattern))
}

export function errorCode(error: unknown): string {
  if (error === null || typeof error !== 'object') return ''
  return String((error as { code?: unknown }).code ?? '')
}

export function classifyError(error: unknown): ErrorVerdict {
  const code = errorCode(error)
  return CLASSIFICATION.find((rule) => matches(rule, code))?.verdict ?? 'record'
}

export function isTransient(error: unknown): boolean {
  return classifyError(error) === 'retry'
}

/** True for errors that mean the server could not be reached at all (for the "cannot reach" notice). */
export function isUnreachable(error: unknown): boolean {
  const rule = CLASSIFICATION.find((r) => matches(r, errorCode(error)))
  return rule === CLASSIFICATION[0] || rule === CLASSIFICATION[1]
}

/** A short description without connection details (which may hold credentials). */
export function describeError(error: unknown): string {
  if (error === null || typeof error !== 'object') return String(error)
  const { code, message } = error as { code?: unknown; message?: unknown }
  return `${String(code ?? 'error')}: ${String(message ?? '')}`.slice(0, 300)
}
