import type { LocalPostgres } from '../../dev/local-postgres.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `produce` in a loop while Postgres is SIGKILLed and restarted under it:
 * 300 ms of traffic, the crash, 500 ms down, the restart, 300 ms more.
 */
export async function crashPostgresDuring(server: LocalPostgres, produce: () => Promise<void>): Promise<void> {
  let running = true
  const producer = (async () => {
    while (running) await produce()
  })()
  await sleep(300)
  await server.kill()
  await sleep(500)
  await server.restart()
  await sleep(300)
  running = false
  await producer
}
