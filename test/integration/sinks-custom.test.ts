/**
 * Custom sinks as a user writes them: a module in a directory of the app,
 * loaded by path in the real worker thread (pino.transport) and, in a child
 * process, by createSluice with a path relative to the calling file. Then
 * every way a third-party sink can misbehave, with the store of record
 * untouched and each sink counted on its own.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import type { SinkFailReason, SinkStats } from '../../src/index.js'
import { appRowCount, databaseUrl, expectBalanced, INDEX_URL, PINO_URL, SCRIPTED_SINK, sqlClient, startTransport, type Harness } from '../support/transport.js'

const run = promisify(execFile)
const FIXTURES = fileURLToPath(new URL('../fixtures/sinks/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sluice-sinks-'))

/** The smallest useful sink: appends each record's msg to a file. What a user would write. */
const USER_SINK = `import { appendFileSync } from 'node:fs'
export default function createSink(options, setup) {
  return {
    async write(records, { signal }) {
      if (signal.aborted) return { delivered: 0, unavailable: records.length }
      appendFileSync(options.file, records.map((r) => setup.name + ' ' + r.value.msg + '\\n').join(''))
      return { delivered: records.length }
    },
  }
}
`
writeFileSync(join(dir, 'user-sink.mjs'), USER_SINK)

/** A stage that redacts, deletes and adds fields: what the store writes must be what it left. */
const REDACTING_STAGE = `export default function createSink() {
  return {
    write(records) {
      for (const r of records) {
        if ('password' in r.value) r.value.password = '[redacted]'
        delete r.value.secret
        r.value.checked_by = 'stage'
      }
    },
  }
}
`
writeFileSync(join(dir, 'redacting-stage.mjs'), REDACTING_STAGE)

/** One batch per line: log, then flush (which also waits for the fan-out sinks). */
async function logBatches(h: Harness, n: number, msg = 'line'): Promise<void> {
  for (let i = 0; i < n; i++) {
    h.logger.info({ i }, `${msg} ${i}`)
    await h.flush()
  }
}

function expectSink(stats: SinkStats | undefined, given: number, expected: Partial<Record<SinkFailReason, number>> & { delivered?: number }): void {
  expect(stats).toBeDefined()
  const { delivered = 0, ...failed } = expected
  expect(stats?.delivered).toBe(delivered)
  expect(stats).toMatchObject(Object.fromEntries(Object.entries(failed).map(([reason, n]) => [`failed_${reason}`, n])))
  // The per-sink invariant: every record given to a fan-out sink is delivered or failed, once.
  expect((stats?.delivered ?? 0) + (stats?.failed ?? 0)).toBe(given)
}

describe('custom sinks loaded by path', () => {
  const sql = sqlClient()
  afterAll(() => sql.end())

  it('pino.transport: a sink from an absolute path and one from a file:// URL get every record, beside Postgres', async () => {
    const out = join(dir, 'by-path.txt')
    const target = join(dir, 'user-sink.mjs')
    const h = await startTransport({
      sinks: [
        { target, options: { file: out } },
        { target: pathToFileURL(target).href, name: 'by-url', options: { file: out } },
      ],
    })
    h.logger.info('first')
    h.logger.error('second')
    await h.flush()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 2, written: 2, dropped: 0, failed: 0 })
    expectSink(s.sinks['user-sink'], 2, { delivered: 2 })
    expectSink(s.sinks['by-url'], 2, { delivered: 2 })
    expect(s.sinks.postgres).toMatchObject({ delivered: 2, failed: 0 })
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['by-url first', 'by-url second', 'user-sink first', 'user-sink second'])
    await h.close()
    expect(await appRowCount(sql, h.table)).toBe(2)
  })

  it('a custom stage that rewrites records: Postgres stores what it left, not the line as it came', async () => {
    const h = await startTransport({ sinks: [{ target: join(dir, 'redacting-stage.mjs'), role: 'stage' }] })
    h.logger.info({ password: 'hunter2', secret: 's3', user: 'ada' }, 'login')
    await h.flush()
    expect(h.stats.read()).toMatchObject({ received: 1, written: 1, dropped: 0, failed: 0 })
    await h.close()
    const [row] = await sql`select msg, data from ${sql(h.table)} where msg = 'login'`
    expect(row?.data).toEqual({ password: '[redacted]', user: 'ada', checked_by: 'stage' })
  })

  it('createSluice in a child process: a target relative to the calling file', async () => {
    const out = join(dir, 'relative.txt')
    const app = join(dir, 'app.mjs')
    writeFileSync(
      app,
      `import pino from '${PINO_URL}'
import { createSluice } from '${INDEX_URL}'
const sluice = createSluice({ postgres: { url: process.env.DATABASE_URL, table: 'sinks_child_app' }, sinks: [{ target: './user-sink.mjs', options: { file: process.env.OUT } }] })
const log = pino(sluice.transport)
for (let i = 0; i < 5; i++) log.info('child ' + i)
await sluice.close()
const s = sluice.stats.read()
console.log(JSON.stringify({ received: s.received, written: s.written, sink: s.sinks['user-sink'] }))
`,
    )
    const { stdout, stderr } = await run(process.execPath, [app], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: databaseUrl(), OUT: out },
      timeout: 60_000,
    })
    expect(stderr).toBe('')
    const result = JSON.parse(stdout) as { received: number; written: number; sink: SinkStats }
    expect(result).toMatchObject({ received: 5, written: 5, sink: { delivered: 5, failed: 0 } })
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(5)
  })
})

describe('pino.transport in a child process', () => {
  it('a relative target resolves from the working directory (the worker cannot see the calling file)', async () => {
    const out = join(dir, 'cwd-relative.txt')
    const app = join(dir, 'transport-app.mjs')
    writeFileSync(
      app,
      `import pino from '${PINO_URL}'
const transport = pino.transport({ target: '${fileURLToPath(INDEX_URL)}', options: { postgres: { url: process.env.DATABASE_URL, table: 'sinks_cwd_app' }, sinks: [{ target: './user-sink.mjs', options: { file: process.env.OUT } }] } })
const log = pino(transport)
for (let i = 0; i < 3; i++) log.info('cwd ' + i)
`,
    )
    const { stderr } = await run(process.execPath, [app], { cwd: dir, env: { ...process.env, DATABASE_URL: databaseUrl(), OUT: out }, timeout: 60_000 })
    expect(stderr).toBe('')
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['user-sink cwd 0', 'user-sink cwd 1', 'user-sink cwd 2'])
  })
})

describe('a fan-out sink that misbehaves costs only its own records', () => {
  const sql = sqlClient()
  afterAll(() => sql.end())

  it('throws, rejects, hangs past its deadline, answers nonsense: counted per sink, Postgres gets everything, the worker lives on', async () => {
    const out = join(dir, 'isolation.txt')
    const scripted = (name: string, script: string[], extra: Record<string, unknown> = {}) => ({ target: SCRIPTED_SINK, name, options: { script, file: out }, ...extra })
    const h = await startTransport({
      sinks: [
        scripted('good', ['ok']),
        scripted('thrower', ['throw']),
        scripted('rejecter', ['reject']),
        scripted('hanger', ['hang'], { timeoutMs: 150 }),
        scripted('liar', ['nonsense', 'too-many']),
        scripted('partial', ['half', 'void']),
      ],
    })
    h.logger.info('a')
    h.logger.info('b')
    await h.flush() // batch 1: 2 records
    await logBatches(h, 3) // batches 2-4: 1 record each
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 5, written: 5, dropped: 0, failed: 0 })
    expectSink(s.sinks.good, 5, { delivered: 5 })
    expectSink(s.sinks.thrower, 5, { error: 5 })
    expectSink(s.sinks.rejecter, 5, { error: 5 })
    expectSink(s.sinks.hanger, 5, { timeout: 5 })
    expectSink(s.sinks.liar, 5, { invalid_result: 5 })
    // half of 2 (1 delivered, 1 rejected), then void (all delivered) and so on.
    expectSink(s.sinks.partial, 5, { delivered: 1 + 1 + 0 + 1, rejected: 1 + 0 + 1 + 0 })
    await h.close()
    expect(await appRowCount(sql, h.table)).toBe(5)
    // One stderr line per distinct problem, naming the sink.
    const stderr = h.stderr()
    expect(stderr).toContain('pino-sluice: sink thrower: write failed: sink threw')
    expect(stderr).toContain('pino-sluice: sink hanger: write passed its deadline')
    expect(stderr).toMatch(/sink liar: write answered \{"delivered":-3,"rejected":"lots"\} for 2 records/)
    expect(stderr.match(/sink thrower: write failed/g)).toHaveLength(1)
  })

  it('a sink that hangs on every call and on close never holds the exit past the budget; every record it was given is counted', async () => {
    const h = await startTransport({
      exit: { budgetMs: 800 },
      batch: { intervalMs: 10 },
      sinks: [{ target: SCRIPTED_SINK, name: 'stuck', timeoutMs: 600_000, maxQueued: 100, options: { script: ['hang'], hangOnClose: true } }],
    })
    for (let i = 0; i < 3; i++) {
      h.logger.info(`line ${i}`)
      // Each line its own batch: wait until Postgres has it (a flush would wait for the stuck sink).
      await waitFor(() => h.stats.read().written === i + 1)
    }
    const started = Date.now()
    await h.close()
    // The budget plus the worker's own teardown; far below the sink's 600 s timeout.
    expect(Date.now() - started).toBeLessThan(800 + 4000)
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 3, written: 3, failed: 0 })
    const stuck = s.sinks.stuck as SinkStats
    expect(stuck.delivered).toBe(0)
    expect(stuck.failed_timeout + stuck.failed_exit_timeout).toBe(3)
    expect(stuck.failed_timeout).toBeGreaterThanOrEqual(1)
    expect(await appRowCount(sql, h.table)).toBe(3)
  })

  it('a custom stage that hangs holds its batch back at most until the exit budget, and everything still balances', async () => {
    const h = await startTransport({
      exit: { budgetMs: 800 },
      batch: { intervalMs: 10 },
      sinks: [{ target: SCRIPTED_SINK, name: 'stuck-stage', role: 'stage', timeoutMs: 600_000, options: { script: ['hang'] } }],
    })
    h.logger.info('held by the stage')
    await waitFor(() => h.stats.read().sinks['stuck-stage'] !== undefined && h.stats.read().received === 1)
    const started = Date.now()
    await h.close()
    expect(Date.now() - started).toBeLessThan(800 + 4000)
    const s = h.stats.read()
    expect(s.received).toBe(1)
    expectBalanced(h.stats, expect)
    expect(s.sinks['stuck-stage']).toMatchObject({ delivered: 0, failed: 1, failed_timeout: 1 })
  })

  it('a sink slower than the batches fails new ones as overflow instead of queueing without bound', async () => {
    const h = await startTransport({ batch: { intervalMs: 10 }, sinks: [{ target: SCRIPTED_SINK, name: 'slow', timeoutMs: 1000, maxQueued: 1, options: { script: ['hang'] } }] })
    for (let i = 0; i < 4; i++) {
      h.logger.info(`line ${i}`)
      await waitFor(() => h.stats.read().written === i + 1)
    }
    await h.flush()
    const s = h.stats.read()
    expect(s.written).toBe(4)
    expect(s.sinks.slow?.failed_overflow).toBeGreaterThanOrEqual(1)
    expectSink(s.sinks.slow, 4, {})
    await h.close()
  })
})

describe('a custom store of record', () => {
  it('decides written and failed (store_rejected / store_unavailable), without Postgres', async () => {
    const h = await startTransport({
      postgres: false,
      sinks: [{ target: SCRIPTED_SINK, name: 'mystore', role: 'store', timeoutMs: 200, options: { script: ['ok', 'throw', 'half', 'hang'] } }],
    })
    await logBatches(h, 2)
    h.logger.info('x')
    h.logger.info('y')
    await h.flush() // half of 2
    await logBatches(h, 1) // hangs past 200 ms
    h.logger.info('after the hang')
    await h.flush()
    const s = h.stats.read()
    expect(s).toMatchObject({ received: 6, written: 1 + 1 + 1, failed_store_unavailable: 1 + 1, failed_store_rejected: 1, failed_db_rejected: 0, failed_db_unavailable: 0 })
    expectBalanced(h.stats, expect)
    expect(s.sinks.mystore).toMatchObject({ delivered: 3, failed: 3, failed_error: 1, failed_rejected: 1, failed_timeout: 1 })
    expect(s.sinks.postgres).toBeUndefined()
    await h.close()
  })
})

describe('start-up checks name the target and the fix', () => {
  const start = (sinks: unknown[], extra: Record<string, unknown> = {}) => startTransport({ sinks, ...extra } as never)

  it('a module that cannot be found', async () => {
    await expect(start([{ target: 'no-such-sink-package-xyz' }])).rejects.toThrow(
      /options\.sinks\[0\] \(target "no-such-sink-package-xyz"\): cannot find the module from .*Install the package in the app \(npm install no-such-sink-package-xyz\), or give a path starting with \.\/ or \.\.\/, an absolute path/,
    )
    await expect(start([{ target: join(dir, 'missing.mjs') }])).rejects.toThrow(/importing file:.*missing\.mjs failed.*Check that the file exists/)
  })

  it('a module without a sink factory, and a factory that throws', async () => {
    await expect(start([{ target: join(FIXTURES, 'no-factory.mjs') }])).rejects.toThrow(/exports no sink factory\. Export one as default or as createSink/)
    await expect(start([{ target: join(FIXTURES, 'throwing-factory.mjs') }])).rejects.toThrow(/options\.sinks\[0\] \(target ".*throwing-factory\.mjs"\): its factory failed: options\.url is required/)
  })

  it('createSluice: a target that resolves from nowhere throws at once; a module without a factory is the transport\'s error event', async () => {
    // The built package: createSluice starts dist/src/transport/ring-worker.js.
    const { createSluice } = (await import(INDEX_URL)) as typeof import('../../src/index.js')
    const postgres = { url: databaseUrl(), table: 'sinks_create_errors' }
    expect(() => createSluice({ postgres, sinks: [{ target: './no-such-sink.mjs' }] })).toThrow(
      /options\.sinks\[0\] \(target "\.\/no-such-sink\.mjs"\): cannot find the module from .*sinks-custom\.test\.ts.*Check the path/,
    )
    const sluice = createSluice({ postgres, sinks: [{ target: join(FIXTURES, 'no-factory.mjs') }] })
    const [error] = (await once(sluice.transport, 'error')) as [Error]
    expect(error.message).toMatch(/no-factory\.mjs exports no sink factory/)
    await sluice.close()
  })

  it('options that make no sense together', async () => {
    await expect(start([{ target: SCRIPTED_SINK, role: 'store' }], { file: { path: join(dir, 'two.ndjson') } })).rejects.toThrow(
      /names 2 stores of record \(file, sinks\[0\] \(role: 'store'\)\); there can be one/,
    )
    await expect(start([{ target: SCRIPTED_SINK, role: 'sink' }])).rejects.toThrow(/options\.sinks\[0\]\.role must be 'fanout'/)
    await expect(start([{ target: SCRIPTED_SINK }, { target: SCRIPTED_SINK }])).rejects.toThrow(/options\.sinks\[1\] is named "scripted-sink" like an earlier sink/)
    await expect(start([], { postgres: false })).rejects.toThrow(/options\.postgres is false and nothing else would receive the records/)
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
