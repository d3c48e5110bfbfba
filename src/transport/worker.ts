/**
 * The pino-sluice worker: the module `pino.transport({ target: 'pino-sluice' })` loads.
 *
 *   app thread                      worker thread (this file)
 *   ──────────                      ────────────────────────────────────────────────────────────────
 *   pino ─► thread-stream ring ─►  SluiceStream ─► BoundedChannel ─► Batcher ─► stages ─► PostgresSink
 *            (4 MiB, shared)        split lines     drop + count      flush by   S3 offload,  COPY, one tx
 *                                   never waits     on overflow       size/time  CloudWatch   per batch
 *
 *   counters ─► SharedArrayBuffer (app reads live with createStats()) and stderr totals on close.
 */
import { writeSync } from 'node:fs'
import { Counters } from '../counters/counters.js'
import { resolveOptions } from '../options/resolve-options.js'
import { Pipeline, newWriterId } from '../pipeline/pipeline.js'
import { settleBy } from '../pipeline/settle-by.js'
import { createMetricsStage } from '../../sinks/cloudwatch/create-metrics-stage.js'
import { PostgresSink } from '../../sinks/postgres/postgres-sink.js'
import type { Stage } from '../../sinks/sink.js'
import { createOffloadStage } from '../../sinks/s3/create-offload-stage.js'
import { startStatsPublisher } from '../stats/start-stats-publisher.js'
import { exitReport } from './exit-report.js'
import { tolerateLostSocketWrites } from './tolerate-lost-socket-writes.js'
import { SluiceStream } from './sluice-stream.js'

const PUBLISHER_CLOSE_MS = 200

export default async function sluiceTransport(rawOptions: unknown): Promise<SluiceStream> {
  return buildSluiceStream(rawOptions)
}

/** The transport with extra stages after the built-in ones (used by fault tests to make a stage throw). */
export function buildSluiceStream(rawOptions: unknown, extraStages: readonly Stage[] = []): SluiceStream {
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
  // With S3, records above channel.maxRecordBytes are offloaded rather than dropped.
  return new SluiceStream(pipeline, counters, options.s3?.maxRecordBytes ?? options.channel.maxRecordBytes, async () => {
    await pipeline.close()
    counters.publish()
    // A local file and a loopback port: quick, but never worth missing the exit report for.
    if (publisher) await settleBy(publisher.close(), Date.now() + PUBLISHER_CLOSE_MS)
    const report = options.exit.report ? exitReport(counters) : undefined
    // Straight to fd 2: at process exit the app thread is blocked waiting for us,
    // so the worker's piped process.stderr would never be delivered.
    if (report) writeSync(2, report)
  })
}
