/**
 * The error classification table (sinks/postgres/classify-error.ts), one case
 * per class. The same classes are exercised against a real Postgres behind a
 * real proxy in test/integration/faults-proxy.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { CLASSIFICATION, classifyError, isUnreachable } from '../../sinks/postgres/classify-error.js'

const withCode = (code: string) => Object.assign(new Error(code), { code })

describe('classifyError', () => {
  it.each([
    ['ECONNREFUSED', 'retry', 'nothing listens on the port'],
    ['ECONNRESET', 'retry', 'the connection was reset'],
    ['CONNECT_TIMEOUT', 'retry', 'accepted but never answered the startup'],
    ['CONNECTION_CLOSED', 'retry', 'postgres.js: the connection died mid-query'],
    ['ATTEMPT_TIMEOUT', 'retry', 'our own cut of an attempt that got no answer'],
    ['08006', 'retry', 'connection failure'],
    ['25006', 'retry', 'read-only transaction (failover)'],
    ['57P01', 'retry', 'admin shutdown'],
    ['57P02', 'retry', 'crash shutdown'],
    ['57P03', 'retry', 'cannot connect now (starting up)'],
    ['53300', 'retry', 'too many connections'],
    ['53100', 'retry', 'disk full'],
    ['57014', 'retry', 'statement_timeout'],
    ['55P03', 'retry', 'lock_timeout'],
    ['40001', 'retry', 'serialization failure'],
    ['40P01', 'retry', 'deadlock'],
    ['28P01', 'setup', 'wrong password'],
    ['3D000', 'setup', 'no such database'],
    ['42501', 'setup', 'permission denied'],
    ['42P01', 'setup', 'table dropped under us'],
    ['22P02', 'record', 'invalid text representation'],
    ['22001', 'record', 'value too long'],
    ['23514', 'record', 'check constraint'],
    ['23502', 'record', 'not null'],
    ['23505', 'record', 'unique (the sink re-checks its own key first)'],
    ['54000', 'record', 'row too large'],
    ['P0001', 'record', 'raised by a trigger (not in the table: record, the conservative default)'],
  ])('%s is %s (%s)', (code, verdict) => {
    expect(classifyError(withCode(code))).toBe(verdict)
  })

  it('errors without a code, and non-errors, are taken as caused by a record', () => {
    expect(classifyError(new TypeError('boom'))).toBe('record')
    expect(classifyError('boom')).toBe('record')
    expect(classifyError(null)).toBe('record')
  })

  it('a class pattern matches five-character SQLSTATEs only', () => {
    expect(classifyError(withCode('53'))).toBe('record')
    expect(classifyError(withCode('53400'))).toBe('retry')
  })

  it('only connection-level failures count as "cannot reach the database"', () => {
    expect(isUnreachable(withCode('ECONNREFUSED'))).toBe(true)
    expect(isUnreachable(withCode('CONNECT_TIMEOUT'))).toBe(true)
    expect(isUnreachable(withCode('25006'))).toBe(false)
    expect(isUnreachable(withCode('23514'))).toBe(false)
  })

  it('every rule says why', () => {
    for (const rule of CLASSIFICATION) expect(rule.why.length).toBeGreaterThan(10)
  })
})
