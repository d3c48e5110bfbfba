import { readFile } from 'node:fs/promises'
import { get } from 'node:http'
import { parseSnapshot, type StatsSnapshot } from '../../stats/stats-snapshot.js'
import type { TailSource } from './tail-args.js'

/** `missing`: the file does not exist (so tail may look for stats files next to it). */
export type ReadResult = { ok: true; snapshot: StatsSnapshot } | { ok: false; waiting: string; missing?: boolean }

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } }).cause
  return (error as { code?: string }).code ?? cause?.code
}

/** No keep-alive (agent: false): a finished tail must not be held open by an idle socket. */
function httpGet(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (text += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })))
    request.on('error', reject)
  })
}

/** One read of the stats file or endpoint; every failure becomes a sentence telling the user what to check. */
export async function readSnapshot(source: TailSource, timeoutMs: number): Promise<ReadResult> {
  let text: string
  const where = source.kind === 'file' ? source.path : source.url
  try {
    if (source.kind === 'file') {
      text = await readFile(source.path, 'utf8')
    } else {
      const response = await httpGet(source.url, timeoutMs)
      if (response.status !== 200) return { ok: false, waiting: `${where} answered HTTP ${response.status}; is this a pino-sluice stats.port?` }
      text = response.text
    }
  } catch (error) {
    const code = errorCode(error)
    if (code === 'ENOENT') return { ok: false, missing: true, waiting: `no stats file at ${where} yet; is the app running with stats.file set to this path?` }
    if (code === 'ECONNREFUSED') return { ok: false, waiting: `nothing listening at ${where} yet; is the app running with stats.port set to this port?` }
    if ((error as Error).name === 'TimeoutError') return { ok: false, waiting: `${where} did not answer within ${timeoutMs} ms` }
    return { ok: false, waiting: `cannot read ${where}: ${code ?? (error instanceof Error ? error.message : String(error))}` }
  }
  const parsed = parseSnapshot(text)
  return parsed.ok ? parsed : { ok: false, waiting: `${where} is not a pino-sluice stats snapshot: ${parsed.reason}` }
}
