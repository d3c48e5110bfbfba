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
 *
 * createSluice() takes the other entry, ring-worker.ts: a ring of our own in shared memory and a
 * RingPump in place of thread-stream and SluiceStream; from the BoundedChannel on, both run the
 * same start-pipeline.ts.
 */
import { maxRecordBytes } from '../options/resolve-options.js'
import { SluiceStream } from './sluice-stream.js'
import { reportStartFailure } from './start-failure.js'
import { startPipeline, type RunningPipeline } from './start-pipeline.js'

export default async function sluiceTransport(rawOptions: unknown): Promise<SluiceStream> {
  return buildSluiceStream(rawOptions)
}

/** The transport: the pipeline with a SluiceStream in front (thread-stream writes into it). */
export async function buildSluiceStream(rawOptions: unknown): Promise<SluiceStream> {
  let running: RunningPipeline
  try {
    running = await startPipeline(rawOptions)
  } catch (error) {
    // Count the lines the app logged before the start failed (start-failure.ts), then fail as always.
    reportStartFailure(rawOptions, error)
    throw error
  }
  const { options, pipeline, counters } = running
  return new SluiceStream(pipeline, counters, maxRecordBytes(options), () => running.close())
}
