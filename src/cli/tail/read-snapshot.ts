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

/** A /stats body is a few KB (one more line per sink); anything near this is not a pino-sluice endpoint. */
export const MAX_STATS_BODY_BYTES = 1024 * 1024

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name })

/**
 * GET with the endpoint distrusted: the body is cut off past
 * MAX_STATS_BODY_BYTES (declared or sent), and the whole exchange, not only
 * each silence, ends at `timeoutMs`, so a server that drips one byte at a
 * time cannot hold the tail. No keep-alive (agent: false): a finished tail
 * must not be held open by an idle socket.
 */
function httpGet(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let settled = false
    const finish = (error: Error | undefined, result?: { status: number; text: string }): void => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      if (error) {
        request.destroy()
        reject(error)
      } else {
        resolve(result as { status: number; text: string })
      }
    }
    const tooLarge = (): Error => named('BodyTooLargeError', `more than ${MAX_STATS_BODY_BYTES} bytes`)
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      if (Number(response.headers['content-length']) > MAX_STATS_BODY_BYTES) return finish(tooLarge())
      const chunks: Buffer[] = []
      let bytes = 0
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > MAX_STATS_BODY_BYTES) return finish(tooLarge())
        chunks.push(chunk)
      })
      response.on('end', () => finish(undefined, { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      response.on('error', (error) => finish(error))
      response.on('close', () => finish(named('Error', 'the connection closed before the end of the answer')))
    })
    const deadline = setTimeout(() => finish(named('TimeoutError', 'timeout')), timeoutMs)
    request.on('timeout', () => finish(named('TimeoutError', 'timeout')))
    request.on('error', (error) => finish(error))
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
    if ((error as Error).name === 'BodyTooLargeError') {
      return { ok: false, waiting: `${where} sent more than ${MAX_STATS_BODY_BYTES / 1024 / 1024} MiB (a pino-sluice /stats answer is a few KB); is this a pino-sluice stats.port?` }
    }
    return { ok: false, waiting: `cannot read ${where}: ${code ?? (error instanceof Error ? error.message : String(error))}` }
  }
  const parsed = parseSnapshot(text)
  return parsed.ok ? parsed : { ok: false, waiting: `${where} is not a pino-sluice stats snapshot: ${parsed.reason}` }
}
