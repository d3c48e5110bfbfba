import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { afterAll, expect, it } from 'vitest'
import { createStats } from '../../src/index.js'
import { appRowCount, databaseUrl, sqlClient, uniqueTable } from '../support/transport.js'

const TARGET = fileURLToPath(new URL('../fixtures/throwing-stage-target.mjs', import.meta.url))
const sql = sqlClient()
afterAll(() => sql.end())

it('tells the app with an error event when the worker crashes, and keeps the counts up to the crash', async () => {
  const stats = createStats()
  const table = uniqueTable('crash')
  const transport = pino.transport({ target: TARGET, options: { postgres: { url: databaseUrl(), table }, counters: stats.buffer } })
  await once(transport, 'ready')
  const log = pino(transport)
  log.info('first batch')
  await new Promise((resolve) => transport.flush(resolve))
  const errored = once(transport, 'error')
  log.error('second batch')
  const [error] = (await errored) as [Error]
  expect(error.message).toBe('sink exploded')
  const s = stats.read()
  expect(s).toMatchObject({ received: 2, written: 1 })
  expect(await appRowCount(sql, table)).toBe(1)
})
