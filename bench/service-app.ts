/**
 * One system of the service scenario in a process of its own (spawned by
 * service.ts with an IPC channel): a Fastify 5 app whose route logs one line
 * per request. The parent drives it with autocannon and asks it, through IPC,
 * to mark the start and the end of the measured window; in between it counts
 * requests, lines and each thread's CPU (Linux /proc/self/task/<tid>).
 */
import { once } from 'node:events'
import { readFileSync, readdirSync } from 'node:fs'
import Fastify from 'fastify'
import pino, { type Logger } from 'pino'
import type { ServiceAppResult, ServiceAppSpec, ServiceFromParent, ServiceToParent } from './service-spec.js'

interface ThreadSample {
  /** ns on CPU, per thread id. */
  cpuNs: Map<string, number>
  /** Times each thread went to sleep of its own accord (voluntary context switches): a sleeping worker woken counts one. */
  sleeps: Map<string, number>
}

/** Doorbells rung, worker wakes and unread bytes of a createSluice ring; undefined for other systems. */
type RingProbe = () => { doorbells: number; workerWakes: number; unreadBytes: number }

interface LoggerUnderTest {
  logger: Logger
  /** Threads started for the transport (its worker and any libuv threads it brought). */
  threads: string[]
  ring: RingProbe | undefined
  /** Everything logged is settled; returns the transport's counters where it has them. */
  finish(): Promise<Record<string, number> | undefined>
}

function taskIds(): string[] {
  return readdirSync('/proc/self/task')
}

function sampleThreads(ids: readonly string[]): ThreadSample {
  const cpuNs = new Map<string, number>()
  const sleeps = new Map<string, number>()
  for (const id of ids) {
    try {
      cpuNs.set(id, Number(readFileSync(`/proc/self/task/${id}/schedstat`, 'utf8').split(' ')[0]))
      const status = readFileSync(`/proc/self/task/${id}/status`, 'utf8')
      sleeps.set(id, Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0))
    } catch {
      // A thread that ended since: it counts nothing more.
    }
  }
  return { cpuNs, sleeps }
}

const delta = (after: Map<string, number>, before: Map<string, number>, id: string): number => (after.get(id) ?? 0) - (before.get(id) ?? 0)

/**
 * The ring's shared state. The baseline (an older build) has no ringActivity(): read its slots
 * directly (WRITE_POS 0, READ_POS 1, DOORBELL 3), which is where every version keeps them.
 */
function ringProbe(transport: object): RingProbe {
  const withActivity = transport as { ringActivity?: RingProbe }
  if (typeof withActivity.ringActivity === 'function') return () => withActivity.ringActivity!.call(transport)
  const state = (transport as unknown as { writer: { state: Int32Array } }).writer.state
  return () => ({ doorbells: Atomics.load(state, 3), workerWakes: Number.NaN, unreadBytes: (Atomics.load(state, 0) - Atomics.load(state, 1)) >>> 0 })
}

/** Ends a pino.transport() stream and waits until its worker has closed. */
async function endTransport(transport: ReturnType<typeof pino.transport>): Promise<void> {
  const closed = once(transport, 'close')
  transport.end()
  await closed
}

async function startLogger(spec: ServiceAppSpec): Promise<LoggerUnderTest> {
  const before = new Set(taskIds())
  const newThreads = (): string[] => taskIds().filter((id) => !before.has(id))
  const sluiceOptions = { postgres: { url: spec.databaseUrl, table: spec.table }, exit: { report: false } }
  if (spec.system === 'pino-noop') {
    return { logger: pino({}, { write() {} }), threads: [], ring: undefined, finish: async () => undefined }
  }
  if (spec.system === 'pino-file') {
    const transport = pino.transport({ target: 'pino/file', options: { destination: '/dev/null' } })
    await once(transport, 'ready')
    return {
      logger: pino(transport),
      threads: newThreads(),
      ring: undefined,
      finish: async () => {
        await endTransport(transport)
        return undefined
      },
    }
  }
  const sluiceModule = (await import(spec.sluiceModule)) as typeof import('../src/index.js')
  if (spec.system === 'pino-sluice') {
    const stats = sluiceModule.createStats()
    const transport = pino.transport({ target: sluiceModule.WORKER_ENTRY, options: { ...sluiceOptions, counters: stats.buffer } })
    await once(transport, 'ready')
    return {
      logger: pino(transport),
      threads: newThreads(),
      ring: undefined,
      finish: async () => {
        await new Promise<void>((resolve, reject) => transport.flush((error?: Error) => (error ? reject(error) : resolve())))
        const counters = stats.readFlat()
        await endTransport(transport)
        return counters
      },
    }
  }
  const sluice = sluiceModule.createSluice(sluiceOptions)
  await once(sluice.transport, 'ready')
  return {
    logger: pino(sluice.transport),
    threads: newThreads(),
    ring: ringProbe(sluice.transport),
    finish: async () => {
      await sluice.flush()
      const counters = sluice.stats.readFlat()
      await sluice.close()
      return counters
    },
  }
}

/**
 * From a write to the worker taking the line out of the ring, at a low rate (one line every
 * `gapMs`): what the doorbell adds. The app thread polls the ring between event-loop turns,
 * so timers (the doorbell's own) still fire.
 */
async function deliveryLatencyMs(logger: Logger, ring: RingProbe, lines: number, gapMs: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < lines; i++) {
    await new Promise((resolve) => setTimeout(resolve, gapMs))
    const started = process.hrtime.bigint()
    logger.info({ probe: i }, 'latency probe')
    while (ring().unreadBytes > 0) await new Promise((resolve) => setImmediate(resolve))
    samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return samples.sort((a, b) => a - b)
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ServiceAppSpec
  const send = (message: ServiceToParent): void => void process.send?.(message)
  const under = await startLogger(spec)
  const { logger } = under
  let requests = 0
  let logged = 0
  const app = Fastify({ logger: false })
  app.get('/orders/:id', async (request) => {
    requests++
    logged++
    logger.info({ orderId: (request.params as { id: string }).id, method: request.method, url: request.url, status: 200 }, 'order fetched')
    return { ok: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  let start: { sample: ThreadSample; cpu: NodeJS.CpuUsage; requests: number; logged: number; ring: ReturnType<RingProbe> | undefined } | undefined
  process.on('message', (message: ServiceFromParent) => {
    if (message.type === 'start') {
      start = { sample: sampleThreads([String(process.pid), ...under.threads]), cpu: process.cpuUsage(), requests, logged, ring: under.ring?.() }
      return
    }
    if (!start) return
    const end = { sample: sampleThreads([String(process.pid), ...under.threads]), cpu: process.cpuUsage(start.cpu), requests, logged, ring: under.ring?.() }
    void report(start, end)
  })

  async function report(s: NonNullable<typeof start>, e: { sample: ThreadSample; cpu: NodeJS.CpuUsage; requests: number; logged: number; ring: ReturnType<RingProbe> | undefined }): Promise<void> {
    const main = String(process.pid)
    // The transport's worker is the first thread it started; libuv helpers it brought come later.
    const worker = [...under.threads].sort((a, b) => Number(a) - Number(b))[0]
    const workerCpuNs = under.threads.reduce((sum, id) => sum + delta(e.sample.cpuNs, s.sample.cpuNs, id), 0)
    await app.close()
    const latencyMs = under.ring && spec.latencyLines > 0 ? await deliveryLatencyMs(logger, under.ring, spec.latencyLines, spec.latencyGapMs) : []
    logged += latencyMs.length
    const counters = await under.finish()
    const result: ServiceAppResult = {
      requests: e.requests - s.requests,
      linesInWindow: e.logged - s.logged,
      logged,
      appCpuNs: delta(e.sample.cpuNs, s.sample.cpuNs, main),
      workerCpuNs,
      processCpuNs: (e.cpu.user + e.cpu.system) * 1000,
      workerSleeps: worker === undefined ? null : delta(e.sample.sleeps, s.sample.sleeps, worker),
      doorbells: e.ring && s.ring ? e.ring.doorbells - s.ring.doorbells : null,
      ownWorkerWakes: e.ring && s.ring && Number.isFinite(e.ring.workerWakes) ? e.ring.workerWakes - s.ring.workerWakes : null,
      deliveryLatencyMs: latencyMs,
      counters: counters ?? null,
    }
    send({ type: 'result', result })
    process.disconnect?.()
  }

  send({ type: 'listening', port })
}

main().catch((error: unknown) => {
  process.stderr.write(`service app failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
