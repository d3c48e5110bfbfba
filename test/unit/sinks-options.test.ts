/** The sink options and a sink's answer, checked as plain units: what is allowed, what each mistake says. */
import { describe, expect, it } from 'vitest'
import { OptionsError, resolveOptions } from '../../src/index.js'
import { nameFromTarget } from '../../src/options/sinks-options.js'
import { judge } from '../../src/pipeline/sink-answer.js'

const URL_ENV = { DATABASE_URL: 'postgres://u@localhost/db' }
const resolve = (options: Record<string, unknown>, env: NodeJS.ProcessEnv = URL_ENV) => resolveOptions(options, env)
const attempt = (options: Record<string, unknown>, env: NodeJS.ProcessEnv = URL_ENV) => () => resolve(options, env)

describe('options.sinks', () => {
  it('defaults: role fanout, a name from the target, 10 s per call, 4 batches queued', () => {
    const [entry] = resolve({ sinks: [{ target: '@acme/pino-webhook' }] }).sinks
    expect(entry).toEqual({ index: 0, target: '@acme/pino-webhook', asWritten: '@acme/pino-webhook', options: {}, role: 'fanout', name: 'pino-webhook', timeoutMs: 10_000, maxQueued: 4, failClosed: false })
  })

  it('failClosed: true by default for stages, only for stages, and a boolean', () => {
    expect(resolve({ sinks: [{ target: 'redact', role: 'stage' }] }).sinks[0]?.failClosed).toBe(true)
    expect(resolve({ sinks: [{ target: 'redact', role: 'stage', failClosed: false }] }).sinks[0]?.failClosed).toBe(false)
    expect(() => resolve({ sinks: [{ target: 'hook', failClosed: true }] })).toThrow(/options\.sinks\[0\]\.failClosed applies to stages only/)
    expect(() => resolve({ sinks: [{ target: 'redact', role: 'stage', failClosed: 'yes' }] })).toThrow(/options\.sinks\[0\]\.failClosed must be true or false/)
  })

  it('names from targets: package, scoped package, path, file URL', () => {
    expect(nameFromTarget('pino-elastic')).toBe('pino-elastic')
    expect(nameFromTarget('/srv/app/sinks/My_Sink.mjs')).toBe('my_sink')
    expect(nameFromTarget('file:///srv/app/2nd-sink.js')).toBe('nd-sink')
  })

  it('rejects what cannot work, naming the option and the fix', () => {
    expect(attempt({ sinks: {} })).toThrow(/options\.sinks must be an array/)
    expect(attempt({ sinks: [{}] })).toThrow(/options\.sinks\[0\]\.target must be a package name, an absolute path or a file:\/\/ URL/)
    expect(attempt({ sinks: [{ target: 'x', optoins: {} }] })).toThrow(/options\.sinks\[0\] has an unknown key "optoins"\. Did you mean "options"\?/)
    expect(attempt({ sinks: [{ target: 'x', name: 'Bad Name' }] })).toThrow(/options\.sinks\[0\]\.name must be 1 to 32 lower-case letters/)
    expect(attempt({ sinks: [{ target: 'x', name: 'postgres' }] })).toThrow(/is named "postgres" like the built-in postgres sink of this configuration/)
    expect(attempt({ file: { path: '/tmp/a' }, sinks: [{ target: 'pino-sluice/file', options: { path: '/tmp/b' } }] })).toThrow(/is named "file" like the built-in file sink/)
    expect(resolve({ sinks: [{ target: 'pino-sluice/file' }] }).sinks[0]?.name).toBe('file')
    expect(attempt({ sinks: [{ target: 'x', timeoutMs: 0 }] })).toThrow(/options\.sinks\[0\]\.timeoutMs must be an integer between 1 and 600000/)
  })
})

describe('which store of record', () => {
  it('Postgres by default, and its URL is then required', () => {
    expect(resolve({}).store).toMatchObject({ kind: 'postgres' })
    expect(attempt({}, {})).toThrow(/options\.postgres\.url is missing/)
  })

  it('file, or a custom store, instead of Postgres: no URL needed', () => {
    expect(resolve({ file: { path: '/tmp/x.ndjson' } }, {})).toMatchObject({ store: { kind: 'file' }, postgres: undefined, file: { path: '/tmp/x.ndjson', maxBytes: 64 * 1024 * 1024, maxFiles: 5 } })
    expect(resolve({ sinks: [{ target: 'x', role: 'store' }] }, {})).toMatchObject({ store: { kind: 'sink', index: 0 }, postgres: undefined })
  })

  it("the store's batch limits come from the store chosen, not from Postgres's options", () => {
    const postgres = { url: 'postgres://u@h/d', connections: 4, connectTimeoutMs: 2000, retry: { budgetMs: 10_000 } }
    expect(resolve({ postgres }, {}).store).toEqual({ kind: 'postgres', batchesInFlight: 5, flushLimitMs: 13_000 })
    expect(resolve({ file: { path: '/tmp/x.ndjson' } }, {}).store).toEqual({ kind: 'file', batchesInFlight: 2, flushLimitMs: 30_000 })
    expect(resolve({ sinks: [{ target: 'x', role: 'store', timeoutMs: 4000 }] }, {}).store).toEqual({ kind: 'sink', index: 0, batchesInFlight: 2, flushLimitMs: 5000 })
  })

  it('one store at most', () => {
    expect(attempt({ postgres: { url: 'postgres://u@h/d' }, file: { path: '/tmp/x' } })).toThrow(/names 2 stores of record \(postgres, file\); there can be one/)
    expect(attempt({ sinks: [{ target: 'a', role: 'store' }, { target: 'b', role: 'store' }] })).toThrow(/names 2 stores of record/)
  })

  it('no store: only when something still receives the records, and S3 only with a fan-out sink', () => {
    expect(attempt({ postgres: false }, {})).toThrow(/options\.postgres is false and nothing else would receive the records/)
    expect(resolve({ postgres: false, cloudwatch: { namespace: 'App' } }, {}).store).toMatchObject({ kind: 'none' })
    expect(resolve({ postgres: false, sinks: [{ target: 'x' }] }, {}).store).toMatchObject({ kind: 'none' })
    expect(attempt({ postgres: false, cloudwatch: { namespace: 'App' }, s3: { bucket: 'payloads' } }, {})).toThrow(/the pointers would be kept nowhere/)
    expect(resolve({ postgres: false, s3: { bucket: 'payloads' }, sinks: [{ target: 'x' }] }, {}).store).toMatchObject({ kind: 'none' })
    expect(attempt({ postgres: 'off' })).toThrow(OptionsError)
  })
})

describe("a sink's answer", () => {
  it('nothing means all delivered; a plain delivered count leaves the rest unavailable', () => {
    expect(judge(undefined, 5)).toEqual({ delivered: 5, rejected: 0, unavailable: 0, reason: undefined })
    expect(judge({ delivered: 3, reason: 'HTTP 503' }, 5)).toEqual({ delivered: 3, rejected: 0, unavailable: 2, reason: 'HTTP 503' })
    expect(judge({ delivered: 3, rejected: 2 }, 5)).toEqual({ delivered: 3, rejected: 2, unavailable: 0, reason: undefined })
  })

  it('nonsense is invalid_result for the whole batch', () => {
    for (const answer of [null, 5, 'ok', {}, { delivered: -1 }, { delivered: 6 }, { delivered: 1.5 }, { delivered: 2, rejected: 1 }, { delivered: 5, unavailable: 1 }, { delivered: '5' }]) {
      expect(judge(answer, 5)).toEqual({ fail: 'invalid_result' })
    }
  })
})
