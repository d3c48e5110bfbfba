/**
 * Publishes the worker's counters for other processes (`sluice tail`, Prometheus):
 *
 *   Counters ─► every intervalMs ─► stats.file (temp file + rename, one JSON snapshot)
 *            └► on request ──────► http://<stats.host, 127.0.0.1>:<stats.port>/metrics and /stats
 *
 * The file is replaced atomically rather than appended to (NDJSON) so it stays
 * one small, constant-size document for a process that runs for months, and a
 * reader never sees a half-written snapshot. Rates come from comparing
 * successive snapshots, which is what `sluice tail` does.
 */
import { dirname } from 'node:path'
import type { Counters } from '../counters/counters.js'
import { urlHost } from './allowed-host.js'
import { startStatsHttpServer, type StatsHttpServer } from './stats-http-server.js'
import type { StatsOptions } from './stats-options.js'
import { takeSnapshot, type SnapshotSource } from './stats-snapshot.js'
import { writeFileAtomic } from './write-file-atomic.js'

export interface StatsPublisher {
  /** Publishes a last snapshot and releases the file/port. */
  close(): Promise<void>
  /** Resolves once the HTTP port (if any) is listening and the first snapshot is written. */
  readonly ready: Promise<void>
}

export function startStatsPublisher(
  options: StatsOptions | undefined,
  counters: Counters,
  report: (message: string) => void = (message) => process.stderr.write(`pino-sluice: ${message}\n`),
): StatsPublisher | undefined {
  if (!options) return undefined
  const { file, port, host, intervalMs } = options
  const source: SnapshotSource = { intervalMs, startedMs: Date.now(), http: null, read: () => counters.snapshot(), readSinks: () => counters.sinks.snapshot() }
  let server: StatsHttpServer | undefined
  let writing: Promise<void> = Promise.resolve()
  let writeFailed = false
  let closed = false

  // One write at a time: a slow disk skips intervals instead of piling them up.
  const publish = (final: boolean): Promise<void> => {
    if (file === undefined) return Promise.resolve()
    writing = writing.then(() =>
      writeFileAtomic(file, `${JSON.stringify(takeSnapshot(source, final))}\n`).then(
        () => {
          writeFailed = false
        },
        (error: unknown) => {
          // Once per outage, not once per interval; the next intervals keep trying.
          if (!writeFailed) report(describeWriteFailure(file, error))
          writeFailed = true
        },
      ),
    )
    return writing
  }
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    publish(false).finally(() => (busy = false))
  }, intervalMs)
  timer.unref()

  const listening =
    port === undefined
      ? Promise.resolve()
      : startStatsHttpServer(port, host, () => takeSnapshot(source)).then(
          (started) => {
            if (closed) return started.close()
            server = started
            source.http = { port: started.port, url: `http://${urlHost(host)}:${started.port}` }
            // Without a file the chosen port would be unknowable.
            if (file === undefined && port === 0) report(`stats on ${source.http.url}/metrics and /stats`)
          },
          (error: unknown) => report(`cannot serve stats on ${urlHost(host)}:${port}: ${error instanceof Error ? error.message : String(error)}`),
        )
  const ready = listening.then(() => publish(false))

  return {
    ready,
    async close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      await listening
      await publish(true)
      await server?.close()
    },
  }
}

/** One line: what failed, why, and what to do; logging itself is not affected. */
function describeWriteFailure(file: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  const why =
    code === 'ENOENT'
      ? `its directory ${dirname(file)} does not exist (create it, or set stats.file to another path)`
      : code === 'EACCES' || code === 'EPERM'
        ? `no permission to write in ${dirname(file)} (make it writable, or set stats.file to another path)`
        : error instanceof Error
          ? error.message
          : String(error)
  return `cannot write stats file ${file}: ${why}. Logs keep flowing; the file is retried every interval.`
}
