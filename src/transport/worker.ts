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
import type { Stage } from '../../sinks/sink.js'
import { SluiceStream } from './sluice-stream.js'
import { startPipeline } from './start-pipeline.js'

export default async function sluiceTransport(rawOptions: unknown): Promise<SluiceStream> {
  return buildSluiceStream(rawOptions)
}

/** The transport with extra stages after the built-in ones (used by fault tests to make a stage throw). */
export function buildSluiceStream(rawOptions: unknown, extraStages: readonly Stage[] = []): SluiceStream {
  const running = startPipeline(rawOptions, extraStages)
  const { options, pipeline, counters } = running
  // With S3, records above channel.maxRecordBytes are offloaded rather than dropped.
  return new SluiceStream(pipeline, counters, options.s3?.maxRecordBytes ?? options.channel.maxRecordBytes, () => running.close())
}
