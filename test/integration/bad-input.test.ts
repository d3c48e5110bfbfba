import { afterAll, describe, expect, it } from 'vitest'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

const sql = sqlClient()
afterAll(() => sql.end())

describe('bad input is counted or repaired, and loses nothing else', () => {
  it('drops lines that are not JSON objects as invalid_json', async () => {
    const h = await startTransport()
    h.logger.info('good 1')
    for (const raw of ['not json', '[1,2,3]', '"a string"', 'null', '42', '{"unterminated":']) h.transport.write(`${raw}\n`)
    h.logger.info('good 2')
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 8, written: 2, droppedBy: { invalid_json: 6 } })
    expect(await appRowCount(sql, h.table)).toBe(2)
    expectBalanced(h.stats, expect)
  })

  it('keeps records with NUL characters and lone surrogates, sanitized and counted', async () => {
    const h = await startTransport()
    h.logger.info({ nested: { s: 'a\u0000b', lone: 'x\ud800y' }, ['k\u0000ey']: 1 }, 'nul\u0000in msg')
    h.transport.write('{"level":30,"msg":"escaped \\ud83d alone","data":"\\u0000"}\n')
    h.logger.info('clean')
    await h.close()
    const rows = await sql`select msg, data from ${sql(h.table)} order by seq`
    expect(rows).toHaveLength(3)
    expect(rows[0]?.msg).toBe('nulin msg')
    expect(rows[0]?.data).toEqual({ nested: { s: 'ab', lone: 'x\ufffdy' }, key: 1 })
    expect(rows[1]?.msg).toBe('escaped \ufffd alone')
    expect(h.stats.read()).toMatchObject({ received: 3, written: 3, sanitized: 2 })
    expectBalanced(h.stats, expect)
  })

  it('drops lines above maxRecordBytes as too_large, even when they span many chunks', async () => {
    const h = await startTransport({ channel: { maxRecordBytes: 4096 } })
    h.logger.info('before')
    h.logger.info({ blob: 'x'.repeat(10_000) }, 'just too large')
    h.logger.info({ blob: 'y'.repeat(8 * 1024 * 1024) }, 'much larger than one ring buffer')
    h.logger.info('after')
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 4, written: 2, droppedBy: { too_large: 2 } })
    expect((await sql`select msg from ${sql(h.table)} where not data ? 'pino_sluice' order by seq`).map((r) => r.msg)).toEqual(['before', 'after'])
    expectBalanced(h.stats, expect)
  })

  it('keeps odd but valid records: wrong-typed fields, invalid times, __proto__ keys, deep nesting, huge numbers', async () => {
    const h = await startTransport()
    const deep = '{"a":'.repeat(500) + '1' + '}'.repeat(500)
    h.transport.write(`{"level":"warn","msg":{"not":"a string"},"pid":-5,"hostname":7,"time":"yesterday"}\n`)
    h.transport.write(`{"level":30,"time":1e300,"__proto__":{"polluted":true},"big":123456789012345678901234567890}\n`)
    h.transport.write(`{"level":30,"time":1700000000000,"msg":"deep","d":${deep}}\n`)
    h.transport.write(`{"level":30,"dup":1,"dup":2,"msg":"dup"}\n`)
    // Beyond a double: JSON.parse makes them Infinity and 0, and jsonb refuses the first as written.
    h.transport.write(`{"level":30,"msg":"out of range","n":1e131072,"tiny":1e-20000,"ok":1.5}\n`)
    await h.close()
    const rows = await sql`select level, msg, pid, hostname, time, data from ${sql(h.table)} order by seq`
    expect(rows).toHaveLength(5)
    expect(rows[0]).toMatchObject({ level: 40, msg: null, pid: null, hostname: null })
    expect(rows[0]?.data).toMatchObject({ msg: { not: 'a string' }, pid: -5, hostname: 7, time_invalid: 'yesterday' })
    expect(rows[1]?.data).toMatchObject({ ['__proto__']: { polluted: true }, time_invalid: 1e300 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(rows[2]?.time).toEqual(new Date(1700000000000))
    expect(rows[3]?.data).toEqual({ dup: 2 })
    expect(rows[4]).toMatchObject({ msg: 'out of range', data: { n: null, tiny: 0, ok: 1.5 } })
    expect(h.stats.read()).toMatchObject({ received: 5, written: 5, failed: 0 })
    expectBalanced(h.stats, expect)
  })

  it('a record nested deeper than a stack allows costs only itself: dropped when it needs sanitizing, refused by Postgres otherwise', async () => {
    const deep = (inner: string) => '{"a":'.repeat(100_000) + inner + '}'.repeat(100_000)
    const h = await startTransport({ batch: { intervalMs: 60_000 } })
    h.logger.info('before')
    // Sanitizing walks the value: too deep for the stack, so the line is dropped as unstorable JSON.
    h.transport.write(`{"level":30,"msg":"nul deep","d":${deep('"\\u0000"')}}\n`)
    // No escapes: sent as written; Postgres's own stack limit refuses it, and bisection isolates it.
    h.transport.write(`{"level":30,"msg":"plain deep","d":${deep('1')}}\n`)
    h.logger.info('after')
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 4, written: 2, droppedBy: { invalid_json: 1 }, failedBy: { db_rejected: 1 } })
    expect(h.stderr()).toContain('stack depth limit exceeded')
    expect((await sql`select msg from ${sql(h.table)} where not data ? 'pino_sluice' order by seq`).map((r) => r.msg)).toEqual(['before', 'after'])
    expectBalanced(h.stats, expect)
  })

  it('isolates a record Postgres rejects and writes the rest of its batch', async () => {
    const h = await startTransport({ batch: { maxRecords: 100, intervalMs: 60_000 } })
    h.logger.info('create the table')
    await h.flush()
    await sql.unsafe(`
      create function ${h.table}_reject() returns trigger language plpgsql as $$
      begin if new.data ? 'poison' then raise exception 'poisoned record'; end if; return new; end $$;
      create trigger ${h.table}_reject before insert on ${h.table} for each row execute function ${h.table}_reject();`)
    for (let i = 0; i < 100; i++) h.logger.info(i === 37 || i === 80 ? { i, poison: true } : { i }, 'row')
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 101, written: 99, failedBy: { db_rejected: 2, db_unavailable: 0 } })
    expect(await appRowCount(sql, h.table)).toBe(99)
    expect(h.stderr()).toContain('poisoned record')
    expectBalanced(h.stats, expect)
  })
})
