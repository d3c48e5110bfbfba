/**
 * Drives the built transport the way an app does: `pino.transport()` with the
 * package as target, a shared stats buffer, then flush/end and wait for close.
 */
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pino from 'pino'
import postgres from 'postgres'
import { inject } from 'vitest'
import { createStats, type SluiceOptions, type StatsHandle } from '../../src/index.js'

export const WORKER_ENTRY = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))
/** For apps a test writes and runs in a child process: the built package and pino, as import URLs. */
export const INDEX_URL = pathToFileURL(WORKER_ENTRY).href
export const PINO_URL = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href
/** The test sink that answers each call as its `script` option says (fixtures/sinks/scripted-sink.mjs). */
export const SCRIPTED_SINK = fileURLToPath(new URL('../fixtures/sinks/scripted-sink.mjs', import.meta.url))

let tableCounter = 0

/** A table name of its own for each test, so files can share the server. */
export function uniqueTable(prefix = 't'): string {
  tableCounter++
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${tableCounter}`
}

export interface Harness {
  readonly transport: ReturnType<typeof pino.transport>
  readonly logger: pino.Logger
  readonly stats: StatsHandle
  readonly table: string
  flush(): Promise<void>
  /** Ends the transport and waits until the worker has drained and closed. */
  close(): Promise<void>
  /** stderr written by the worker thread (the exit report, problems). */
  stderr(): string
}

export type HarnessOptions = Omit<SluiceOptions, 'counters'>

export async function startTransport(options: HarnessOptions = {}, table = uniqueTable()): Promise<Harness> {
  const stats = createStats()
  // A test that chose another store of record (or none) gets no Postgres added.
  const otherStore = options.postgres === false || options.file !== undefined || (options.sinks ?? []).some((s) => s.role === 'store')
  const merged: SluiceOptions = {
    ...options,
    postgres: otherStore ? options.postgres : { url: databaseUrl(), table, ...options.postgres },
    counters: stats.buffer,
  }
  const transport = pino.transport({ target: WORKER_ENTRY, options: merged, worker: { stderr: true } as never })
  let stderrText = ''
  const workerStderr = (transport as unknown as { worker?: { stderr?: NodeJS.ReadableStream } }).worker?.stderr
  workerStderr?.on('data', (chunk: Buffer) => (stderrText += chunk.toString()))
  await once(transport, 'ready')
  const logger = pino(transport)
  let closed: Promise<void> | undefined
  return {
    transport,
    logger,
    stats,
    table: (merged.postgres || undefined)?.table ?? table,
    flush: () => new Promise<void>((resolve, reject) => transport.flush((err?: Error) => (err ? reject(err) : resolve()))),
    close() {
      closed ??= (async () => {
        const done = once(transport, 'close')
        transport.end()
        await done
      })()
      return closed
    },
    stderr: () => stderrText,
  }
}

export function databaseUrl(): string {
  return inject('databaseUrl')
}

export function sqlClient(): postgres.Sql {
  return postgres(databaseUrl(), { onnotice: () => {}, max: 2 })
}

/** Rows the app wrote (notice rows excluded). */
export async function appRowCount(sql: postgres.Sql, table: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from ${sql(table)} where not (data ? 'pino_sluice')`
  return row?.n as number
}

/** The accounting invariant every test that emits asserts after close. */
export function expectBalanced(stats: StatsHandle, expectFn: (v: unknown) => { toBe(x: unknown): void }): void {
  const s = stats.read()
  expectFn(s.received).toBe(s.written + s.dropped + s.failed)
}
