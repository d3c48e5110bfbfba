import { writeSync } from 'node:fs'
import { Counters } from '../counters/counters.js'
import { resolveOptions, type ResolvedOptions } from '../options/resolve-options.js'
import { Pipeline, newWriterId } from '../pipeline/pipeline.js'
import { createMetricsStage } from '../../sinks/cloudwatch/create-metrics-stage.js'
import { PostgresSink } from '../../sinks/postgres/postgres-sink.js'
import type { Stage } from '../../sinks/sink.js'
import { createOffloadStage } from '../../sinks/s3/create-offload-stage.js'
import { startStatsPublisher } from '../stats/start-stats-publisher.js'
import { exitReport } from './exit-report.js'
import { tolerateLostSocketWrites } from './tolerate-lost-socket-writes.js'

export interface RunningPipeline {
  readonly options: ResolvedOptions
  readonly counters: Counters
  readonly pipeline: Pipeline
  /** Drains and commits within `budgetMs`, stops publishing stats and prints the exit report. */
  close(budgetMs?: number): Promise<void>
}

/**
 * Everything a worker runs, whichever way lines reach it (thread-stream's
 * stream or createSluice's ring): options, counters, sinks, stages, the
 * pipeline and the stats publisher.
 */
export function startPipeline(rawOptions: unknown, extraStages: readonly Stage[] = []): RunningPipeline {
  const options = resolveOptions(rawOptions)
  tolerateLostSocketWrites()
  const counters = new Counters(options.counters)
  const problems = new Set<string>()
  const sink = new PostgresSink(options.postgres, newWriterId(), {
    onRetry: () => {
      counters.add('retries')
      counters.publish()
    },
    onSpansWritten: (count) => counters.add('spans', count),
    readCounters: () => counters.snapshot(),
    onProblem: (message) => {
      // One line per distinct problem: a dead database must not flood stderr.
      if (problems.size < 20 && !problems.has(message)) {
        problems.add(message)
        process.stderr.write(`pino-sluice: ${message}\n`)
      }
    },
  })
  // Offloading runs first so metrics and Postgres see the slim record.
  const stages = [createOffloadStage(options.s3, counters), createMetricsStage(options.cloudwatch, counters), ...extraStages].filter(
    (stage): stage is Stage => stage !== undefined,
  )
  const pipeline = new Pipeline(options, counters, sink, stages)
  pipeline.start()
  counters.publish()
  const publisher = startStatsPublisher(options.stats, counters)
  return {
    options,
    counters,
    pipeline,
    async close(budgetMs?: number) {
      await pipeline.close(budgetMs)
      counters.publish()
      await publisher?.close()
      const report = options.exit.report ? exitReport(counters) : undefined
      // Straight to fd 2: at process exit the app thread is blocked waiting for us,
      // so the worker's piped process.stderr would never be delivered.
      if (report) writeSync(2, report)
    },
  }
}
