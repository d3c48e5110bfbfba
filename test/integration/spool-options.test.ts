/**
 * `options.spool` (issue 24): off unless `dir` is given, validated at the
 * edge, and a directory that cannot be created or written stops the start
 * with the path and the fix, for pino.transport() and createSluice() alike.
 */
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/index.js'
// The built package: createSluice starts dist/src/transport/ring-worker.js, which only exists there.
import { createSluice } from '../../dist/src/index.js'
import { WORKER_ENTRY, databaseUrl, sqlClient, startTransport } from '../support/transport.js'

const url = 'postgres://u@127.0.0.1:5432/db'
const attempt = (spool: unknown) => () => resolveOptions({ postgres: { url }, spool }, {})
const base = mkdtempSync(join(tmpdir(), 'sluice-spool-options-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
/** A file where the spool's parent directory should be: nothing can be created under it. */
const blocker = join(base, 'a-file')
writeFileSync(blocker, '')

describe('options.spool', () => {
  it('is off by default and takes a dir (made absolute) with a 1 GiB budget by default', () => {
    expect(resolveOptions({ postgres: { url } }, {}).spool).toBeUndefined()
    expect(resolveOptions({ postgres: { url }, spool: { dir: 'rel/spool' } }, {}).spool).toEqual({ dir: resolve('rel/spool'), maxBytes: 1024 ** 3 })
    expect(resolveOptions({ postgres: { url }, spool: { dir: '/x', maxBytes: 8 * 1024 ** 2 } }, {}).spool?.maxBytes).toBe(8 * 1024 ** 2)
  })

  it('names the option and the fix for every mistake', () => {
    expect(attempt({})).toThrow(/options\.spool needs a dir.*Set spool\.dir/)
    expect(attempt({ dir: '' })).toThrow(/options\.spool\.dir must be a non-empty string/)
    expect(attempt({ dir: '/x', maxBytes: 1000 })).toThrow(/options\.spool\.maxBytes must be an integer >= 1048576|between 1048576/)
    expect(attempt({ dir: '/x', maxbytes: 5 })).toThrow(/options\.spool has an unknown key "maxbytes"\. Did you mean "maxBytes"\?/)
    expect(attempt('/x')).toThrow(/options\.spool must be an object/)
    expect(() => resolveOptions({ postgres: { url }, dir: '/x' }, {})).toThrow(/options has an unknown key "dir"/)
  })

  it('stops createSluice() at start the same way', async () => {
    const dir = join(blocker, 'spool2')
    const sluice = createSluice({ postgres: { url: databaseUrl() }, spool: { dir } })
    const [error] = (await once(sluice.transport, 'error')) as [Error]
    expect(error.message).toContain(`options.spool.dir ${JSON.stringify(dir)} cannot be used as the spool`)
  })

  it('stops pino.transport() at start when the directory cannot be created, naming the path and the fix', async () => {
    const dir = join(blocker, 'spool')
    const transport = pino.transport({ target: WORKER_ENTRY, options: { postgres: { url: databaseUrl() }, spool: { dir } } })
    const [error] = (await once(transport, 'error')) as [Error]
    expect(error.message).toContain(`options.spool.dir ${JSON.stringify(dir)} cannot be used as the spool: ENOTDIR`)
    expect(error.message).toMatch(/make it writable by the user this process runs as .*or set spool\.dir to a writable directory/)
  })

  it('with pino.transport(), spools the lines a full channel refuses instead of dropping them, and replays them once', async () => {
    const h = await startTransport({ channel: { maxRecords: 16 }, spool: { dir: join(base, 'transport') } })
    for (let i = 0; i < 5000; i++) h.logger.info({ i }, 'through a tiny channel')
    const until = Date.now() + 30_000
    for (;;) {
      await h.flush()
      const s = h.stats.read()
      if ((s.received === 5000 && s.spool_records === 0 && s.written + s.dropped + s.failed === 5000) || Date.now() > until) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await h.close()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 5000, written: 5000, dropped: 0, failed: 0, spool_records: 0 })
    expect(s.spooled).toBeGreaterThan(0)
    const sql = sqlClient()
    const [row] = await sql<{ rows: number; distinct: number }[]>`select count(*)::int as rows, count(distinct data->>'i')::int as distinct from ${sql(h.table)} where msg = 'through a tiny channel'`
    await sql.end()
    expect(row).toEqual({ rows: 5000, distinct: 5000 })
  })

  it('claims a directory of its own under dir and leaves nothing behind on a clean close (createSluice)', async () => {
    const dir = join(base, 'clean')
    const sluice = createSluice({ postgres: { url: databaseUrl(), table: `spool_opts_${process.pid}` }, spool: { dir } })
    await once(sluice.transport, 'ready')
    expect(readdirSync(dir)).toHaveLength(1)
    await sluice.close()
    expect(readdirSync(dir)).toEqual([])
  })
})
