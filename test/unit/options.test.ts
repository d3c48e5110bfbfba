import { describe, expect, it } from 'vitest'
import { OptionsError, resolveOptions } from '../../src/index.js'

const url = 'postgres://u:secret@127.0.0.1:5432/db'
const attempt = (options: unknown, env: NodeJS.ProcessEnv = {}) => () => resolveOptions(options, env)

describe('options are validated once, with messages that name the option and the fix', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveOptions({ postgres: { url } }, {})
    expect(resolved.channel).toEqual({ maxRecords: 8192, maxBytes: 64 * 1024 * 1024, maxRecordBytes: 1024 * 1024, overflow: 'drop-newest' })
    expect(resolved.batch).toEqual({ maxRecords: 5000, maxBytes: 8 * 1024 * 1024, intervalMs: 1000, flushLevel: 50 })
    expect(resolved.postgres).toMatchObject({ table: 'logs', schema: 'public', connections: 2 })
    expect(resolved.exit).toEqual({ budgetMs: 5000, report: true })
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('falls back to DATABASE_URL and complains when there is no URL at all', () => {
    expect(resolveOptions({}, { DATABASE_URL: url }).postgres?.url).toBe(url)
    expect(attempt({})).toThrow(/options\.postgres\.url is missing.*DATABASE_URL/)
  })

  it('treats an option set to undefined as absent (the types allow it, for `url: process.env.DATABASE_URL`)', () => {
    const resolved = resolveOptions({ postgres: { url: undefined, table: undefined, retry: undefined }, channel: undefined, s3: undefined, cloudwatch: undefined, stats: undefined, counters: undefined }, { DATABASE_URL: url })
    expect(resolved.postgres).toMatchObject({ url, table: 'logs' })
    expect(resolved.channel.maxRecords).toBe(8192)
    expect([resolved.s3, resolved.cloudwatch, resolved.stats, resolved.counters]).toEqual([undefined, undefined, undefined, undefined])
  })

  it('never repeats a URL (it may hold a password) in an error', () => {
    expect(attempt({ postgres: { url: 'mysql://u:secret@h/db' } })).toThrow(/must start with postgres:\/\//)
    expect(attempt({ postgres: { url: 'mysql://u:secret@h/db' } })).not.toThrow(/secret/)
  })

  it('rejects unknown keys with a suggestion', () => {
    expect(attempt({ postgres: { url }, chanel: {} })).toThrow('options has an unknown key "chanel". Did you mean "channel"?')
    expect(attempt({ postgres: { url }, batch: { maxRecord: 5 } })).toThrow(/options\.batch has an unknown key "maxRecord"\. Did you mean "maxRecords"\?/)
  })

  it('points a key given at the top level to the section it belongs in', () => {
    expect(attempt({ table: 'app_logs' }, { DATABASE_URL: url })).toThrow(
      'options has an unknown key "table". Did you mean "postgres.table"? It belongs inside its section: { postgres: { table: ... } }.',
    )
    expect(attempt({ url })).toThrow(/unknown key "url"\. Did you mean "postgres\.url"\?/)
    expect(attempt({ postgres: { url }, bucket: 'b' })).toThrow(/Did you mean "s3\.bucket"\?/)
    // A key two sections share: both are named.
    expect(attempt({ postgres: { url }, maxRecords: 10 })).toThrow(/Did you mean "channel\.maxRecords" or "batch\.maxRecords"\?/)
    expect(attempt({ postgres: { url }, region: 'eu-west-1' })).toThrow(/Did you mean "s3\.region" or "cloudwatch\.region"\?/)
    // A misspelt section still gets the spelling hint.
    expect(attempt({ postgres: { url }, postgress: {} })).toThrow('options has an unknown key "postgress". Did you mean "postgres"?')
  })

  it('rejects wrong types and ranges, naming the option, the value and the default', () => {
    expect(attempt({ postgres: { url }, channel: { maxRecords: 0 } })).toThrow('options.channel.maxRecords must be an integer between 1 and 10000000, got 0. Omit it to use the default 8192.')
    expect(attempt({ postgres: { url }, channel: { maxBytes: '64MB' } })).toThrow(/options\.channel\.maxBytes must be an integer.*got "64MB"/)
    expect(attempt({ postgres: { url }, channel: { overflow: 'block' } })).toThrow(`options.channel.overflow must be one of 'drop-newest', 'drop-oldest', got "block"`)
    expect(attempt({ postgres: { url }, channel: { maxBytes: 4096, maxRecordBytes: 8192 } })).toThrow(/options\.channel\.maxRecordBytes .*at most channel\.maxBytes/)
    expect(attempt({ postgres: { url }, batch: [] })).toThrow('options.batch must be an object, got an array')
    expect(attempt({ postgres: { url }, exit: { budgetMs: 20_000 } })).toThrow(/between 0 and 8000 \(ms; pino gives the worker 10 s to end/)
    // 9000 was the old maximum: thread-stream's end() could give up before a close that used it all.
    expect(attempt({ postgres: { url }, exit: { budgetMs: 9000 } })).toThrow(/options\.exit\.budgetMs must be an integer between 0 and 8000/)
    expect(resolveOptions({ postgres: { url }, exit: { budgetMs: 8000 } }).exit.budgetMs).toBe(8000)
    expect(attempt({ postgres: { url }, counters: new ArrayBuffer(8) })).toThrow(/options\.counters must be the buffer of createStats\(\)/)
  })

  it('accepts only plain identifiers as table and schema names', () => {
    for (const table of ['logs; drop table users', 'Logs', '1abc', 'a"b', 'x'.repeat(49)]) {
      expect(attempt({ postgres: { url, table } })).toThrow(OptionsError)
    }
    expect(resolveOptions({ postgres: { url, table: 'app_logs_2' } }, {}).postgres?.table).toBe('app_logs_2')
  })

  it('sends a schema-qualified table name to postgres.schema, and an upper-case one to lower case', () => {
    expect(attempt({ postgres: { url, table: 'public.app_logs' } })).toThrow(
      /options\.postgres\.table must be a plain SQL identifier .*got "public\.app_logs"\. The schema is an option of its own: pass \{ table: 'app_logs', schema: 'public' \} \(postgres\.schema, default 'public'\)\./,
    )
    expect(attempt({ postgres: { url, table: 'Audit.AppLogs' } })).toThrow(/pass \{ table: 'applogs', schema: 'audit' \}/)
    expect(attempt({ postgres: { url, table: 'AppLogs' } })).toThrow(/got "AppLogs"\. Use lower case: 'applogs'\./)
    expect(attempt({ postgres: { url, table: 'logs; drop table users' } })).not.toThrow(/schema|lower case/)
    // A dotted schema is not split into anything.
    expect(attempt({ postgres: { url, schema: 'a.b' } })).not.toThrow(/is an option of its own/)
  })
})
