/**
 * A CloudWatch that accepts connections and never answers must not stall the
 * app's exit: the stage gives up at the exit budget and counts the datapoints
 * as lost, while every log record is still committed to Postgres.
 */
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { metric } from '../../src/index.js'
import { uniqueNamespace, useDummyCredentials } from '../support/cloudwatch.js'
import { appRowCount, expectBalanced, sqlClient, startTransport } from '../support/transport.js'

useDummyCredentials()

describe('CloudWatch at exit', () => {
  const sql = sqlClient()
  afterAll(() => sql.end())

  it('gives up on a silent endpoint within the exit budget and counts what was lost', async () => {
    const sockets: Socket[] = []
    const blackhole = createServer((socket) => sockets.push(socket))
    blackhole.listen(0, '127.0.0.1')
    await once(blackhole, 'listening')
    const { port } = blackhole.address() as { port: number }
    const h = await startTransport({
      exit: { budgetMs: 1500 },
      cloudwatch: { namespace: uniqueNamespace(), endpoint: `http://127.0.0.1:${port}`, selfMetrics: false, flushIntervalMs: 600_000 },
    })
    for (let i = 0; i < 25; i++) h.logger.info(metric('Orders', 1, 'Count'), 'order')
    const started = Date.now()
    await h.close()
    const elapsed = Date.now() - started
    for (const socket of sockets) socket.destroy()
    blackhole.close()
    // Budget 1.5 s plus worker start/stop; the SDK's own timeout (10 s) would be far longer.
    expect(elapsed).toBeLessThan(5000)
    expect(h.stats.readFlat()).toMatchObject({ received: 25, written: 25, metrics_sent: 0, metrics_lost: 25 })
    expect(await appRowCount(sql, h.table)).toBe(25)
    expectBalanced(h.stats, expect)
  })
})
