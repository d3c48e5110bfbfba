import { hostname } from 'node:os'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { logArgs } from '../bench-record.js'
import { nowMs, type AppResult, type AppSpec } from '../bench-spec.js'
import { measureCpu } from '../report/thread-cpu.js'

const COLUMNS = ['time', 'level', 'msg', 'hostname', 'pid', 'writer_id', 'seq', 'trace_id', 'span_id', 'data']

/** The same row pino-sluice writes for record i, in COPY text format (JSON never holds a raw tab or newline). */
function copyRow(i: number, host: string): string {
  const [fields, msg] = logArgs(i)
  const data = JSON.stringify(fields).replaceAll('\\', '\\\\')
  return `${new Date().toISOString()}\t30\t${msg}\t${host}\t${process.pid}\traw-copy\t${i + 1}\t\\N\t\\N\t${data}\n`
}

/**
 * The ceiling of the database path: no logger, no worker, no parsing — rows
 * encoded straight into one COPY stream in one transaction with
 * synchronous_commit off, into a table with the same schema and indexes.
 */
export async function runRawCopy(spec: AppSpec): Promise<AppResult> {
  const { records, rate } = spec.emission
  const sql = postgres(spec.databaseUrl, { max: 1, onnotice: () => {} })
  const host = hostname()
  const rssBeforeBytes = process.memoryUsage().rss
  const cpuSpent = measureCpu()
  const firstCallMs = nowMs()
  let lastCallMs = firstCallMs
  async function* rows(): AsyncGenerator<string> {
    const chunk = 1000
    for (let i = 0; i < records; ) {
      if (rate !== undefined) {
        const ahead = i / rate - (nowMs() - firstCallMs) / 1000
        if (ahead > 0) await sleep(ahead * 1000)
      }
      let text = ''
      const end = Math.min(records, i + chunk)
      for (; i < end; i++) text += copyRow(i, host)
      yield text
    }
    lastCallMs = nowMs()
  }
  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`
    const writable = await tx`copy ${sql(spec.table)} (${sql(COLUMNS)}) from stdin`.writable()
    await pipeline(Readable.from(rows()), writable)
  })
  const doneMs = nowMs()
  const cpu = cpuSpent()
  await sql.end()
  return { emitted: records, callNs: 0, firstCallMs, lastCallMs, doneMs, ...cpu, rssBeforeBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }
}
