/**
 * Main-thread cost of one `tracer.span` vs one `logger.info` (issue 6).
 *
 *   node dist/bench/span-cost.js [iterations]
 *
 * pino writes to /dev/null through SonicBoom buffering 4 KiB per synchronous
 * write (an async one would pile up the whole run in one string, since a tight
 * loop never yields), so what is timed is the work on the app thread: building and
 * serializing the record, the mixin, AsyncLocalStorage and promise overhead.
 * The worker and Postgres are not involved (their cost is in bench/run.ts).
 * Each case runs 7 rounds after a warm-up; the median round is reported.
 */
import pino from 'pino'
import { createTracer, sluiceMixin } from '../src/index.js'

const ITERATIONS = Number(process.argv[2] ?? 200_000)
const ROUNDS = 7

type Case = { name: string; run: (n: number) => void | Promise<void> }

async function time(run: Case['run'], n: number): Promise<number> {
  const started = process.hrtime.bigint()
  await run(n)
  return Number(process.hrtime.bigint() - started) / n
}

async function measure(c: Case): Promise<number> {
  await time(c.run, Math.max(1000, ITERATIONS / 10))
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) rounds.push(await time(c.run, ITERATIONS))
  rounds.sort((a, b) => a - b)
  return rounds[Math.floor(ROUNDS / 2)] as number
}

async function main(): Promise<void> {
  const destination = pino.destination({ dest: '/dev/null', minLength: 4096, sync: true })
  const plain = pino(destination)
  const mixed = pino({ mixin: sluiceMixin }, destination)
  const tracer = createTracer(mixed, {
    prices: { sonnet: { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheCreationPerMTok: 3.75 } },
  })
  const noop = async (): Promise<void> => {}

  // Measured first: Node 20's AsyncLocalStorage turns on promise hooks process-wide at its first run().
  const beforeAls: Case[] = [
    { name: 'await of an empty async fn (no AsyncLocalStorage yet)', run: async (n) => { for (let i = 0; i < n; i++) await noop() } },
  ]
  const cases: Case[] = [
    { name: 'logger.info({ i }, msg)', run: (n) => { for (let i = 0; i < n; i++) plain.info({ i }, 'request handled') } },
    { name: 'logger.info with sluiceMixin, outside a span', run: (n) => { for (let i = 0; i < n; i++) mixed.info({ i }, 'request handled') } },
    {
      name: 'logger.info with sluiceMixin, inside a span',
      run: (n) => tracer.span('outer', () => { for (let i = 0; i < n; i++) mixed.info({ i }, 'request handled') }),
    },
    { name: 'await of an empty async fn (AsyncLocalStorage active)', run: async (n) => { for (let i = 0; i < n; i++) await noop() } },
    { name: 'await tracer.span(name, async () => {})', run: async (n) => { for (let i = 0; i < n; i++) await tracer.span('work', noop) } },
    {
      name: 'await tracer.span with attributes + recordUsage (priced)',
      run: async (n) => {
        for (let i = 0; i < n; i++) {
          await tracer.span('llm.call', { attributes: { route: '/ask' } }, async (span) => {
            span.recordUsage({ model: 'sonnet', inputTokens: 1200, outputTokens: 340, cacheReadTokens: 9000, cacheCreationTokens: 0 })
          })
        }
      },
    },
    { name: 'tracer.startSpan(name).end() (sync, no context)', run: (n) => { for (let i = 0; i < n; i++) tracer.startSpan('work').end() } },
  ]
  const results: [string, number][] = []
  for (const c of beforeAls) results.push([c.name, await measure(c)])
  // Enter AsyncLocalStorage once so the "active" cases below measure the steady state.
  await tracer.span('warm', noop)
  for (const c of cases) results.push([c.name, await measure(c)])
  destination.flushSync()

  const width = Math.max(...results.map(([name]) => name.length))
  process.stdout.write(`main-thread cost per call, node ${process.version}, ${ITERATIONS.toLocaleString('en-US')} iterations × ${ROUNDS} rounds (median)\n\n`)
  for (const [name, ns] of results) process.stdout.write(`  ${name.padEnd(width)}  ${Math.round(ns).toString().padStart(6)} ns\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`span-cost failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
