/**
 * The pino-sluice worker: the module `pino.transport({ target: 'pino-sluice' })` loads.
 * Two entries reach the same pipeline (start-pipeline.ts):
 *
 *   app thread                          worker thread
 *   ──────────                          ─────────────────────────────────────────────────────────
 *   pino.transport() (this file):
 *   pino ─► thread-stream ring ─────►  SluiceStream ──┐
 *            (4 MiB, shared)            split lines    │
 *                                                      ├─► BoundedChannel ─► Batcher ─► Pipeline
 *   createSluice() (ring-worker.ts):                   │   drop + count      flush by    parse, then
 *   pino ─► SluiceDestination ─► ring ─► RingPump ─────┘   on overflow       size/time   per batch ▼
 *           encode or drop+count        reads while the channel has room
 *
 *   Pipeline: batch ─► stages, in order ─► store of record ─► written / failed
 *                      S3 offload,         Postgres (COPY, one tx per batch), file, custom or none
 *                      CloudWatch, custom  └► fan-out sinks (own counts)
 *
 * One contract: every sink above, built in or custom, is a `Sink` (sinks/sink.ts) driven by one
 * SinkRunner; its role is data. Which sinks: src/pipeline/build-sinks.ts.
 *   counters ─► SharedArrayBuffer (app reads live with createStats()) and stderr totals on close.
 */
import { maxRecordBytes } from '../options/resolve-options.js'
import type { StageStep } from '../pipeline/stage-step.js'
import { SluiceStream } from './sluice-stream.js'
import { reportStartFailure } from './start-failure.js'
import { startPipeline, type RunningPipeline } from './start-pipeline.js'

export default async function sluiceTransport(rawOptions: unknown): Promise<SluiceStream> {
  return buildSluiceStream(rawOptions)
}

/** The transport with extra stages after the built-in ones (used by fault tests to make pino-sluice's own code throw). */
export async function buildSluiceStream(rawOptions: unknown, extraStages: readonly StageStep[] = []): Promise<SluiceStream> {
  let running: RunningPipeline
  try {
    running = await startPipeline(rawOptions, extraStages)
  } catch (error) {
    // Count the lines the app logged before the start failed (start-failure.ts), then fail as always.
    reportStartFailure(rawOptions, error)
    throw error
  }
  const { options, pipeline, counters } = running
  return new SluiceStream(pipeline, counters, maxRecordBytes(options), () => running.close())
}
