/**
 * Builds every sink the options ask for, through the one Sink API, and hands
 * the pipeline what it drives: the store of record, the stages in order, and
 * the fan-out sinks, each a SinkRunner around one Sink (the role is data).
 * Shared by every worker entry.
 *
 *   stages:  s3 (offload) ─► cloudwatch (metrics) ─► custom stages, in options order
 *   store:   postgres (default) | file | a custom sink with role 'store' | none
 *   fan-out: custom sinks with role 'fanout', each isolated with its own counts
 *
 * Each built-in sink's code is imported only when its option is set: the
 * worker's RSS and start-up time pay only for what the app configured
 * (a Postgres-only worker never loads the AWS SDK, nor a file-only one postgres.js).
 */
import type { Sink, SinkRole } from '../../sinks/sink.js'
import type { Counters } from '../counters/counters.js'
import { MAX_SINKS } from '../counters/sink-counters.js'
import { OptionsError } from '../../sinks/shared/option-reader.js'
import type { ResolvedOptions } from '../options/resolve-options.js'
import type { SinkEntry } from '../options/sinks-options.js'
import { FanOut } from './fan-out.js'
import { loadSink } from './load-sink.js'
import { requireOptionalPackage } from './optional-package.js'
import { SinkRunner } from './sink-runner.js'
import { StageStep } from './stage-step.js'
import { NO_STORE } from './store-of-record.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { SinkCounters } from '../counters/sink-counters.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'

export interface BuiltSinks {
  /** The store of record's runner (role 'store'). */
  readonly store: SinkRunner
  readonly stages: StageStep[]
  readonly fanout: FanOut | undefined
}

export interface BuildContext {
  readonly counters: Counters
  /** Identifies this writer's rows (Postgres). */
  readonly writerId: string
  /** Resolves package names and relative targets; default: the app's entry script, then the working directory. */
  readonly resolveBases?: readonly string[]
}

/** Per-sink totals under flat names, for the Postgres stats row. */
function flatSinkCounts(counters: Counters): Record<string, number> {
  const flat: Record<string, number> = {}
  for (const [name, stats] of Object.entries(counters.sinks.snapshot())) {
    flat[`sinks.${name}.delivered`] = stats.delivered
    flat[`sinks.${name}.failed`] = stats.failed
  }
  return flat
}

export async function buildSinks(options: ResolvedOptions, context: BuildContext): Promise<BuiltSinks> {
  const { counters } = context
  // Each sink its own stderr allowance: a chatty sink cannot hide another's problems.
  const report = (): ((message: string) => void) => problemReporter()
  // Checked before anything connects: a missing optional package is a start-up error, not a runtime one.
  if (options.s3) await requireOptionalPackage('@aws-sdk/client-s3', 's3')
  if (options.cloudwatch) await requireOptionalPackage('@aws-sdk/client-cloudwatch', 'cloudwatch')

  const custom = new Map<SinkEntry, Sink>()
  for (const entry of options.sinks) {
    const reportOwn = report()
    custom.set(entry, await loadSink(entry, { exitBudgetMs: options.exit.budgetMs, report: (m) => reportOwn(`sink ${entry.name}: ${m}`) }, context.resolveBases))
  }
  const builtIn = (sink: Sink, name: string, role: SinkRole): SinkRunner => new SinkRunner(sink, { name, role }, counters.sinks, report())
  const isolated = (entry: SinkEntry, maxQueued = entry.maxQueued): SinkRunner =>
    new SinkRunner(custom.get(entry) as Sink, { name: entry.name, role: entry.role, timeoutMs: entry.timeoutMs, maxQueued, custom: true }, counters.sinks, report())

  // Offloading runs first so metrics and the store see the slim record.
  const stages: StageStep[] = []
  if (options.s3) {
    const { OffloadStage } = await import('../../sinks/s3/offload-stage.js')
    stages.push(new StageStep(builtIn(new OffloadStage(options.s3, counters), 's3', 'stage')))
  }
  if (options.cloudwatch) {
    const { MetricsStage } = await import('../../sinks/cloudwatch/metrics-stage.js')
    stages.push(new StageStep(builtIn(new MetricsStage(options.cloudwatch, counters), 'cloudwatch', 'stage')))
  }
  // Stages run before the store in every batch, so a custom one may hold a queue of at most the batches in flight.
  for (const entry of options.sinks) if (entry.role === 'stage') stages.push(new StageStep(isolated(entry, Number.MAX_SAFE_INTEGER), { mayRewrite: true, failClosed: entry.failClosed }))

  const store = await buildStore(options, context, report(), (entry) => isolated(entry, Number.MAX_SAFE_INTEGER), builtIn)
  const fanouts = options.sinks.filter((entry) => entry.role === 'fanout').map((entry) => isolated(entry))
  const names = Object.keys(counters.sinks.snapshot())
  if (names.length > MAX_SINKS) {
    report()(`${names.length} sinks configured; createStats().read() shows the first ${MAX_SINKS} (${names.slice(0, MAX_SINKS).join(', ')}); the others (${names.slice(MAX_SINKS).join(', ')}) are counted in the stats file, GET /stats and the exit report only`)
  }
  return { store, stages, fanout: fanouts.length > 0 ? new FanOut(fanouts) : undefined }
}

async function buildStore(
  options: ResolvedOptions,
  { counters, writerId }: BuildContext,
  report: (message: string) => void,
  isolated: (entry: SinkEntry) => SinkRunner,
  builtIn: (sink: Sink, name: string, role: SinkRole) => SinkRunner,
): Promise<SinkRunner> {
  const choice = options.store
  // Its counts go nowhere: there is no store to report on.
  if (choice.kind === 'none') return new SinkRunner(NO_STORE, { name: 'none', role: 'store' }, new SinkCounters(), report)
  if (choice.kind === 'sink') {
    const entry = options.sinks.find((e) => e.index === choice.index) as SinkEntry
    const runner = isolated(entry)
    // Like the built-in stores: a store that cannot start is a start-up error, not a stream of failed batches.
    const failed = await runner.start(Deadline.never())
    if (failed !== undefined) {
      throw new OptionsError(
        `options.sinks[${entry.index}] (target ${JSON.stringify(entry.asWritten)}), the store of record: its start() ${failed}${failed === 'timed out' ? ` (timeoutMs ${entry.timeoutMs})` : ''}. Check options.sinks[${entry.index}].options and that its destination is reachable.`,
      )
    }
    return runner
  }
  if (choice.kind === 'file') {
    const file = options.file as NonNullable<ResolvedOptions['file']>
    const { FileSink } = await import('../../sinks/file/file-sink.js')
    const sink = new FileSink(file)
    // A path that cannot be opened is a config mistake: say so now, not at the first batch.
    await sink.start().catch((error: unknown) => {
      throw new OptionsError(`options.file.path ${file.path} cannot be opened for appending (${error instanceof Error ? error.message : String(error)}). Choose a path in a directory the app can write to.`)
    })
    // Trusted as a built-in: its appends are local and chained one after another, so the runner need not queue them too.
    return builtIn(Object.assign(sink, { concurrent: true as const }), 'file', 'store')
  }
  const { PostgresSink } = await import('../../sinks/postgres/postgres-sink.js')
  const postgres = new PostgresSink(options.postgres as NonNullable<ResolvedOptions['postgres']>, writerId, {
    onRetry: () => {
      counters.add('retries')
      counters.publish()
    },
    onSpansWritten: (count) => counters.add('spans', count),
    // The stats row (read by `sluice tail --db`) also carries sinks.<name>.delivered/failed.
    readCounters: () => ({ ...counters.snapshot(), ...flatSinkCounts(counters) }),
    onProblem: report,
  })
  return builtIn(postgres, 'postgres', 'store')
}
