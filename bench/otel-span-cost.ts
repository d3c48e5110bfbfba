/**
 * App-thread cost of one OpenTelemetry span (issue 18), side by side in one run:
 *
 *   node dist/bench/otel-span-cost.js [spansPerRound]     (DATABASE_URL, or an embedded Postgres)
 *
 * The same TracerProvider setup and the same spans (startSpan with a few
 * attributes, then end) under:
 *   1. no span processor: the SDK's own cost, the baseline;
 *   2. the SDK's BatchSpanProcessor + InMemorySpanExporter (its export runs on the app thread too);
 *   3. SluiceSpanProcessor → pino → /dev/null: mapping + JSON serialization, no transport;
 *   4. SluiceSpanProcessor → pino-sluice's real transport (createSluice, sync ring) into Postgres.
 * For reference, the same record written with a plain `logger.info` to
 * both destinations (no provider), which separates the write from the mapping.
 * Spans are ended in chunks of 256 with an event-loop turn between chunks, as
 * a server would (and so the batch processor's timer can export). Each case
 * runs 7 rounds after a warm-up; the median round is reported with its ratio
 * to the baseline, and the fastest round (the least disturbed on a shared machine). Case 4's worker shares the machine's cores with the app.
 */
import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace'
import { resourceFromAttributes } from '@opentelemetry/resources'
import pino from 'pino'
import { startLocalPostgres } from '../dev/local-postgres.js'
import { createSluice } from '../src/index.js'
import { SluiceSpanProcessor } from '../src/otel/index.js'

const SPANS = Number(process.argv[2] ?? 50_000)
const ROUNDS = 7
const CHUNK = 256
const RESOURCE = resourceFromAttributes({ 'service.name': 'bench', 'service.version': '1.0.0', 'host.name': 'bench-host' })

type Workload = { name: string; attributes: Record<string, string | number> }
const WORKLOADS: Workload[] = [
  { name: 'span, 4 attributes', attributes: { 'http.request.method': 'GET', 'http.route': '/orders/:id', 'http.response.status_code': 200, 'user.id': 42 } },
  {
    name: 'GenAI span, usage attributes (priced)',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'sonnet',
      'gen_ai.response.model': 'sonnet',
      'gen_ai.usage.input_tokens': 10_200,
      'gen_ai.usage.output_tokens': 340,
      'gen_ai.usage.cache_read.input_tokens': 9000,
      'gen_ai.usage.cache_creation.input_tokens': 0,
    },
  },
]
const PRICES = { sonnet: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheCreationPerMTok: 3.75 } }

/** The median round, and the fastest (the least disturbed by other work on a shared machine). */
type Figures = { median: number; min: number }
const show = (f: Figures): string => `${Math.round(f.median).toString().padStart(6)} ns (min ${Math.round(f.min).toString().padStart(6)})`

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function round(provider: TracerProvider, workload: Workload, n: number): Promise<number> {
  const tracer = provider.getTracer('bench')
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i += CHUNK) {
    for (let j = i; j < Math.min(n, i + CHUNK); j++) tracer.startSpan('work', { attributes: workload.attributes }).end()
    await turn()
  }
  return Number(process.hrtime.bigint() - started) / n
}

/** The same chunking, for a plain `logger.info(record)` of one span's record: what the processor adds on top of it is the mapping. */
async function logRound(logger: pino.Logger, record: object, n: number): Promise<number> {
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i += CHUNK) {
    for (let j = i; j < Math.min(n, i + CHUNK); j++) logger.info(record)
    await turn()
  }
  return Number(process.hrtime.bigint() - started) / n
}

async function measureLog(logger: pino.Logger, record: object, between?: () => Promise<unknown>): Promise<Figures> {
  await logRound(logger, record, Math.max(1000, SPANS / 10))
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    await between?.()
    rounds.push(await logRound(logger, record, SPANS))
  }
  rounds.sort((a, b) => a - b)
  return { median: rounds[Math.floor(ROUNDS / 2)] as number, min: rounds[0] as number }
}

/** One span's record as SluiceSpanProcessor writes it, caught by a stand-in logger. */
function recordOf(workload: Workload): object {
  let caught: object | undefined
  const catcher = { info: (o: object) => (caught = o), error: (o: object) => (caught = o) } as unknown as pino.Logger
  const provider = new TracerProvider({ resource: RESOURCE, spanProcessors: [new SluiceSpanProcessor(catcher, { prices: PRICES })] })
  provider.getTracer('bench').startSpan('work', { attributes: workload.attributes }).end()
  return caught as object
}

async function measure(processors: () => SpanProcessor[], workload: Workload, between?: () => Promise<void>): Promise<Figures> {
  const provider = new TracerProvider({ resource: RESOURCE, spanProcessors: processors() })
  await round(provider, workload, Math.max(1000, SPANS / 10))
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    await between?.()
    rounds.push(await round(provider, workload, SPANS))
  }
  await provider.shutdown()
  rounds.sort((a, b) => a - b)
  return { median: rounds[Math.floor(ROUNDS / 2)] as number, min: rounds[0] as number }
}

async function main(): Promise<void> {
  const given = process.env.DATABASE_URL
  const database = given ? { url: given, stop: async () => {} } : await startLocalPostgres({ quiet: true })
  const destination = pino.destination({ dest: '/dev/null', minLength: 4096, sync: true })
  const devNull = pino(destination)
  const sluice = createSluice({ postgres: { url: database.url, table: `bench_otel_${process.pid}` } })
  const toPostgres = pino(sluice.transport)
  await new Promise((resolve) => sluice.transport.once('ready', resolve))
  let exporter = new InMemorySpanExporter()

  const cases: { name: string; processors: () => SpanProcessor[]; between?: () => Promise<void> }[] = [
    { name: 'no span processor (baseline)', processors: () => [] },
    { name: 'BatchSpanProcessor + InMemorySpanExporter', processors: () => [new BatchSpanProcessor({ exporter: (exporter = new InMemorySpanExporter()) })], between: async () => exporter.reset() },
    { name: 'SluiceSpanProcessor → pino → /dev/null', processors: () => [new SluiceSpanProcessor(devNull, { prices: PRICES, flush: async () => destination.flushSync() })] },
    {
      name: 'SluiceSpanProcessor → pino-sluice transport → Postgres',
      processors: () => [new SluiceSpanProcessor(toPostgres, { prices: PRICES, flush: sluice.flush })],
      between: async () => {
        await sluice.flush()
      },
    },
  ]
  const lines: string[] = []
  for (const workload of WORKLOADS) {
    lines.push(`${workload.name}:`)
    let baseline = 0
    for (const c of cases) {
      if (process.env.BENCH_VERBOSE) process.stderr.write(`${workload.name} / ${c.name}\n`)
      const figures = await measure(c.processors, workload, c.between)
      if (baseline === 0) baseline = figures.median
      lines.push(`  ${c.name.padEnd(56)} ${show(figures)} per span  ${(figures.median / baseline).toFixed(2)}×`)
    }
    // For reference, no provider: the pino write of the same record (what the processor adds on top is the SDK span and the mapping).
    const record = recordOf(workload)
    for (const [name, logger, between] of [
      ['reference: logger.info(record) → /dev/null', devNull, undefined],
      ['reference: logger.info(record) → pino-sluice transport', toPostgres, sluice.flush],
    ] as const) {
      const figures = await measureLog(logger, record, between)
      lines.push(`  ${name.padEnd(56)} ${show(figures)} per line  (${JSON.stringify(record).length} bytes)`)
    }
    lines.push('')
  }
  destination.flushSync()
  await sluice.close()
  await database.stop()
  const s = sluice.stats.read()
  process.stdout.write(
    `app-thread cost per OTel span, node ${process.version}, ${SPANS.toLocaleString('en-US')} spans × ${ROUNDS} rounds (median, and the fastest round), ratio of medians to the baseline, chunks of ${CHUNK} per event-loop turn\n\n` +
      `${lines.join('\n')}\n` +
      `transport of case 4: received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed}\n`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`otel-span-cost failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  // The transport and the database would keep the process alive.
  process.exit(1)
})
