import type pino from 'pino'
import { logArgs } from '../bench-record.js'
import { nowMs, type AppResult, type Emission } from '../bench-spec.js'
import { emit } from '../scenarios/emit.js'
import { measureCpu } from '../report/thread-cpu.js'

/**
 * Shared by the systems that log through pino in this process: emit, then
 * `finish()` until everything is written out, and read peak RSS (getrusage
 * maxRSS covers the worker thread too: it is the whole process).
 */
export async function runLogger(
  logger: pino.Logger,
  emission: Emission,
  finish: () => Promise<{ done: boolean; counters?: Record<string, number> }>,
  warmUp?: () => Promise<void>,
): Promise<AppResult> {
  // A sustained rate is about the steady state: the pipeline is connected before the clock starts.
  // (Bursts start cold; the startup scenarios measure what a cold start keeps.)
  if (emission.rate !== undefined && warmUp) await warmUp()
  const rssBeforeBytes = process.memoryUsage().rss
  const cpuSpent = measureCpu()
  const timing = await emit(emission, (i) => logger.info(...logArgs(i)))
  // pino unrefs its transport worker: without a ref'd handle the process would exit while we wait for it.
  const keepAlive = setInterval(() => {}, 1000)
  const { done, counters } = await finish().finally(() => clearInterval(keepAlive))
  const doneMs = done ? nowMs() : undefined
  const { cpuMs, mainThreadCpuMs, mainThreadMinorFaults } = cpuSpent()
  return { ...timing, doneMs, cpuMs, mainThreadCpuMs, mainThreadMinorFaults, rssBeforeBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, counters }
}
