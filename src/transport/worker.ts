/**
 * The pino-sluice worker: the module `pino.transport({ target: 'pino-sluice' })` loads.
 *
 *   app thread                      worker thread (this file)
 *   ──────────                      ────────────────────────────────────────────────────────────────
 *   pino ─► thread-stream ring ─►  SluiceStream ─► BoundedChannel ─► Batcher ─► stages ─► store of record
 *            (4 MiB, shared)        split lines     drop + count      flush by   S3 offload,  Postgres (COPY, one tx
 *                                   never waits     on overflow       size/time  CloudWatch,  per batch), file or custom
 *                                                                                custom    └► fan-out sinks (own counts)
 *
 *   counters ─► SharedArrayBuffer (app reads live with createStats()) and stderr totals on close.
 *   Which sinks: src/pipeline/build-sinks.ts.
 */
import { writeSync } from 'node:fs'
import { Counters } from '../counters/counters.js'
import { resolveOptions } from '../options/resolve-options.js'
import { buildSinks } from '../pipeline/build-sinks.js'
import { Pipeline, newWriterId } from '../pipeline/pipeline.js'
import type { Stage } from '../../sinks/sink.js'
import { startStatsPublisher } from '../stats/start-stats-publisher.js'
import { exitReport } from './exit-report.js'
import { tolerateLostSocketWrites } from './tolerate-lost-socket-writes.js'
import { SluiceStream } from './sluice-stream.js'

export default async function sluiceTransport(rawOptions: unknown): Promise<SluiceStream> {
  return buildSluiceStream(rawOptions)
}

/** The transport with extra stages after the built-in ones (used by fault tests to make a stage throw). */
export async function buildSluiceStream(rawOptions: unknown, extraStages: readonly Stage[] = []): Promise<SluiceStream> {
  const options = resolveOptions(rawOptions)
  tolerateLostSocketWrites()
  const counters = new Counters(options.counters)
  const { store, stages, fanout } = await buildSinks(options, { counters, writerId: newWriterId() })
  const pipeline = new Pipeline(options, counters, store, [...stages, ...extraStages], fanout)
  pipeline.start()
  counters.publish()
  const publisher = startStatsPublisher(options.stats, counters)
  // With S3, records above channel.maxRecordBytes are offloaded rather than dropped.
  return new SluiceStream(pipeline, counters, options.s3?.maxRecordBytes ?? options.channel.maxRecordBytes, async () => {
    await pipeline.close()
    counters.publish()
    await publisher?.close()
    const report = options.exit.report ? exitReport(counters) : undefined
    // Straight to fd 2: at process exit the app thread is blocked waiting for us,
    // so the worker's piped process.stderr would never be delivered.
    if (report) writeSync(2, report)
  })
}
