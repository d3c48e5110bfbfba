import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from '../../sinks/postgres/connect.js'
import type { PostgresOptions } from '../../sinks/postgres/postgres-options.js'
import { logArgs } from '../bench-record.js'
import { nowMs, type AppResult, type AppSpec } from '../bench-spec.js'
import { measureCpu } from '../report/thread-cpu.js'

const COLUMNS = ['time', 'level', 'msg', 'hostname', 'pid', 'writer_id', 'seq', 'trace_id', 'span_id', 'data']
export const CEILING_BATCH = 5000

/**
 * The ceiling the worker is held to (issue 14): the same rows COPYed in
 * 5000-row transactions (synchronous_commit off, TCP_NODELAY) into a table
 * with the same columns and no index, one connection, rows encoded up front
 * of each transaction. Nothing of pino-sluice runs here; what a logging
 * pipeline could reach if it cost nothing.
 */
export async function runCopyBatches(spec: AppSpec): Promise<AppResult> {
  const { records, rate } = spec.emission
  // pino-sluice's own connection setup (TCP_NODELAY, no type fetch), one connection.
  const sql = connect({ url: spec.databaseUrl, connections: 1, connectTimeoutMs: 10_000, retry: { initialDelayMs: 100, maxDelayMs: 5000, budgetMs: 30_000 } } as PostgresOptions)
  await sql`select 1`
  const host = hostname()
  const rssBeforeBytes = process.memoryUsage().rss
  const cpuSpent = measureCpu()
  const firstCallMs = nowMs()
  for (let i = 0; i < records; ) {
    if (rate !== undefined) {
      const ahead = i / rate - (nowMs() - firstCallMs) / 1000
      if (ahead > 0) await sleep(ahead * 1000)
    }
    const end = Math.min(records, i + CEILING_BATCH)
    let text = ''
    const time = new Date().toISOString()
    for (; i < end; i++) {
      const [fields, msg] = logArgs(i)
      text += `${time}\t30\t${msg}\t${host}\t${process.pid}\tcopy-5000\t${i + 1}\t\\N\t\\N\t${JSON.stringify(fields)}\n`
    }
    await sql.begin(async (tx) => {
      await tx`set local synchronous_commit = off`
      const writable = await tx`copy ${sql(spec.table)} (${sql(COLUMNS)}) from stdin`.writable()
      await new Promise<void>((resolve, reject) => {
        writable.once('error', reject)
        writable.once('finish', resolve)
        writable.end(text)
      })
    })
  }
  const lastCallMs = nowMs()
  const doneMs = lastCallMs
  const cpu = cpuSpent()
  await sql.end()
  return { emitted: records, callNs: 0, firstCallMs, lastCallMs, doneMs, ...cpu, rssBeforeBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }
}
