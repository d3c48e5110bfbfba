/** An option mistake reaching the built worker through pino.transport(): it arrives as an 'error' event. The messages themselves are unit-tested in test/unit/options.test.ts. */
import { once } from 'node:events'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { WORKER_ENTRY, databaseUrl } from '../support/transport.js'

describe('options in the worker', () => {
  it('surfaces an invalid option as an error event on the transport', async () => {
    const transport = pino.transport({ target: WORKER_ENTRY, options: { postgres: { url: databaseUrl() }, channel: { overflow: 'block' } } })
    const [error] = (await once(transport, 'error')) as [Error]
    expect(error.message).toContain('options.channel.overflow must be one of')
  })
})
