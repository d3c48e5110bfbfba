import { writeFileSync } from 'node:fs'
import pino from 'pino'
import { createSluice, createStats } from '../../src/index.js'
import { logArgs } from '../bench-record.js'
import { nowMs, type AppResult, type AppSpec } from '../bench-spec.js'
import { WORKER_ENTRY } from './pino-sluice.js'

/**
 * A burst right at startup: the lines are logged in a tight loop before the
 * worker has connected (no 'ready' wait), then the app leaves, by
 * `process.exit(0)` or by running out of work. Only what reaches the
 * database counts; the result file is written in an 'exit' listener added
 * after pino's own, so the counters it reads are final.
 */
export function runStartupBurst(spec: AppSpec): void {
  const stats = createStats()
  const options = { ...spec.sluiceOptions, postgres: { url: spec.databaseUrl, table: spec.table }, exit: { report: false } }
  const via = spec.system === 'create-sluice' ? 'create' : 'transport'
  const sluice = via === 'create' ? createSluice(options) : undefined
  const transport = sluice?.transport ?? pino.transport({ target: WORKER_ENTRY, options: { ...options, counters: stats.buffer } })
  const logger = pino(transport)
  const rssBeforeBytes = process.memoryUsage().rss
  const firstCallMs = nowMs()
  const start = process.hrtime.bigint()
  for (let i = 0; i < spec.emission.records; i++) logger.info(...logArgs(i))
  const callNs = Number(process.hrtime.bigint() - start)
  const lastCallMs = nowMs()
  process.once('exit', () => {
    const result: AppResult = {
      emitted: spec.emission.records,
      callNs,
      firstCallMs,
      lastCallMs,
      doneMs: nowMs(),
      rssBeforeBytes,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      counters: sluice ? sluice.stats.readFlat() : stats.readFlat(),
    }
    writeFileSync(spec.resultFile, JSON.stringify(result))
  })
  if (spec.scenario === 'startup-exit') process.exit(0)
}
