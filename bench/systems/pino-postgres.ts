import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import pino from 'pino'
import type { AppResult, AppSpec } from '../bench-spec.js'
import { runLogger } from './run-logger.js'

/**
 * App side of pino-postgres: pino writes synchronously to stdout, which the
 * parent connected to a `pino-postgres` CLI process (the way its README says
 * to run it: `node app.js | pino-postgres --connection ...`). The app is done
 * when it has written its last line; the parent times the CLI's exit.
 */
export async function runPinoPostgresApp(spec: AppSpec): Promise<AppResult> {
  const destination = pino.destination({ dest: 1, sync: true })
  const logger = pino(destination)
  return runLogger(logger, spec.emission, async () => {
    destination.flushSync()
    return { done: false }
  })
}

/** The pino-postgres CLI (installed devDependency) with its default batching, reading stdin. */
export function spawnPinoPostgres(databaseUrl: string, table: string): ChildProcess {
  const require = createRequire(import.meta.url)
  const cli = require.resolve('pino-postgres/index.js')
  return spawn(process.execPath, [cli, '--connection', databaseUrl, '--table', table, '--column', 'content'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  })
}
