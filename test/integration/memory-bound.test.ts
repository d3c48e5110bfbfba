/**
 * A tight-loop burst into a database that is not there: the app's memory stays
 * flat and the worker's heap stays within the channel's byte bound plus a fixed
 * overhead. The figures are measured in bench/; this asserts the bound with
 * generous headroom.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const SCRIPT = fileURLToPath(new URL('../fixtures/burst-into-dead-database.mjs', import.meta.url))
const MiB = 1024 * 1024

it('keeps app RSS growth and worker heap bounded during a 1M-record burst into a stopped database', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '1000000'], { timeout: 120_000 })
  const { rssBefore, rssPeak, workerHeapPeak, stats, final } = JSON.parse(stdout)
  console.log(`RSS growth ${((rssPeak - rssBefore) / MiB).toFixed(1)} MiB, worker heap peak ${(workerHeapPeak / MiB).toFixed(1)} MiB`)
  expect(stats.received).toBe(1_000_000)
  expect(stats.queued_records).toBeLessThanOrEqual(8192)
  // All but what the 32 MiB ring (about 165k of these lines) and the channel hold.
  expect(stats.dropped_overflow).toBeGreaterThan(800_000)
  // Goal: 64 MiB; asserted with headroom for noisy machines.
  expect(rssPeak - rssBefore).toBeLessThan(160 * MiB)
  // Channel bound 64 MiB (far from reached: 8192 records) plus a fixed overhead.
  expect(workerHeapPeak).toBeLessThan(64 * MiB + 64 * MiB)
  expect(final.received).toBe(final.written + final.dropped + final.failed)
  expect(final.failed_db_unavailable + final.dropped_exit_timeout).toBe(final.received - final.dropped_overflow)
})
