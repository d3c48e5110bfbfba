import { writeSync } from 'node:fs'
import { Counters } from '../counters/counters.js'
import { resolveOptions, type ResolvedOptions } from '../options/resolve-options.js'
import { buildSinks } from '../pipeline/build-sinks.js'
import { Pipeline } from '../pipeline/pipeline.js'
import { newWriterId } from '../pipeline/writer-id.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import type { StageStep } from '../pipeline/stage-step.js'
import { storeFailReasons, storeOutcome } from '../pipeline/store-of-record.js'
import { lineReader } from '../records/read-line.js'
import type { Spool } from '../spool/spool.js'
import { exitReport, spoolExitReport } from './exit-report.js'
import { containBackgroundErrors } from './background-errors.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'

async function importSpoolCode() {
  const [{ openSpool }, { Replayer, replayStages }, { SpoolRoute }] = await Promise.all([
    import('../spool/open-spool.js'),
    import('../spool/replayer.js'),
    import('../spool/spool-route.js'),
  ])
  return { openSpool, Replayer, replayStages, SpoolRoute }
}

const PUBLISHER_CLOSE_MS = 200
/** What close gives a replay in flight before going on without it. */
const REPLAY_STOP_MS = 100

export interface RunningPipeline {
  readonly options: ResolvedOptions
  readonly counters: Counters
  readonly pipeline: Pipeline
  /** The disk spool (options.spool), opened and claimed at start; undefined when off. */
  readonly spool: Spool | undefined
  /** Drains and commits within `budgetMs`, stops publishing stats and prints the exit report. */
  close(budgetMs?: number): Promise<void>
}

/**
 * Everything a worker runs, whichever way lines reach it (thread-stream's
 * stream or createSluice's ring): options, counters, sinks, stages, the
 * pipeline and the stats publisher. Async: custom sinks are imported.
 */
export async function startPipeline(rawOptions: unknown, extraStages: readonly StageStep[] = []): Promise<RunningPipeline> {
  const options = resolveOptions(rawOptions)
  const counters = new Counters(options.counters)
  // Before anything connects: an unusable spool directory stops the start like any config mistake.
  // The spool's and the stats publisher's code (zlib, http) is imported only when their options are set.
  const spoolCode = options.spool && (await importSpoolCode())
  const spool = spoolCode?.openSpool(options.spool)
  const writerId = newWriterId()
  // Which sinks, and in which roles: src/pipeline/build-sinks.ts (custom ones are imported here, in the worker).
  let built: Awaited<ReturnType<typeof buildSinks>>
  try {
    built = await buildSinks(options, { counters, writerId })
  } catch (error) {
    spool?.close()
    throw error
  }
  const { store, stages, fanout } = built
  // After the sinks are built: in the ring worker (no inherited uncaughtException listener) the
  // handler this installs would swallow a start-up error instead of letting the app hear it.
  const reportBackground = problemReporter()
  containBackgroundErrors((sink, error) => {
    counters.add('sink_background_errors')
    counters.publish()
    reportBackground(`sink ${sink}: an error outside its calls, caught (the worker and the other sinks go on): ${error instanceof Error ? error.message : String(error)}`)
  })
  const pipeline = new Pipeline(options, counters, store, [...stages, ...extraStages], fanout)
  // The spool's hooks (docs/spool.md): the pipeline spills to it, the replayer writes it back.
  const route = spool && spoolCode && new spoolCode.SpoolRoute(spool, counters, writerId)
  const replayer =
    route &&
    spoolCode &&
    new spoolCode.Replayer(
      route,
      { write: (records, deadline) => store.write(records, deadline).then(storeOutcome), failReasons: storeFailReasons(options.store.kind) },
      spoolCode.replayStages([...stages, ...extraStages], counters, reportBackground),
      counters,
      // COPY-sized batches, as many in flight as the store takes (the batcher's own pace).
      { maxRecords: options.batch.maxRecords, inFlight: options.store.batchesInFlight },
      // Replay reaches only the stages and the store (never the fan-out sinks).
      lineReader(options.store.kind, stages.length + extraStages.length, false),
    )
  if (route) pipeline.useSpool(route)
  const { startStatsPublisher } = options.stats ? await import('../stats/start-stats-publisher.js') : { startStatsPublisher: undefined }
  pipeline.start()
  replayer?.start()
  counters.publish()
  const publisher = startStatsPublisher?.(options.stats, counters)
  return {
    options,
    counters,
    pipeline,
    spool,
    async close(budgetMs?: number) {
      // A replay still in flight is left to finish on its own: its frame stays in the spool, and the commit ledger keeps a second replay exact.
      await replayer?.stop(Date.now() + REPLAY_STOP_MS)
      await pipeline.close(budgetMs)
      route?.publish()
      spool?.close()
      counters.publish()
      // A local file and a loopback port: quick, but never worth missing the exit report for.
      if (publisher) await Deadline.in(PUBLISHER_CLOSE_MS).settles(publisher.close())
      const report = options.exit.report ? exitReport(counters) : undefined
      // Straight to fd 2: at process exit the app thread is blocked waiting for us,
      // so the worker's piped process.stderr would never be delivered.
      if (report) writeSync(2, report)
      const waiting = options.exit.report ? spoolExitReport(counters, spool?.path) : undefined
      if (waiting) writeSync(2, waiting)
    },
  }
}
