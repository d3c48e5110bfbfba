/**
 * pino-sluice public API. Its default export is the transport itself, so
 * `target: 'pino-sluice'` works; `pino-sluice/worker` is the transport alone.
 */
export { createStats, statsFromCounters, type SluiceStats, type StatsHandle, type FlatCounters } from './counters/stats.js'
export { COUNTER_NAMES, DROP_REASONS, FAIL_REASONS, type CounterName, type DropReason, type FailReason } from './counters/counter-names.js'
export { resolveOptions, type ResolvedOptions } from './options/resolve-options.js'
export { OptionsError } from '../sinks/shared/option-reader.js'
export type { SluiceOptions } from './options/sluice-options.js'
export { materialize, type LogRow, type MaterializeOptions, type MaterializeS3Options, type S3ClientLike, type RowId } from './materialize/materialize.js'
export { createTracer, type Tracer, type TracerOptions, type TracerLogger, type SpanOptions } from './spans/tracer.js'
export { Span, type SpanPayload } from './spans/span.js'
export { sluiceMixin, type SpanContext } from './spans/span-context.js'
export { parseTraceparent, formatTraceparent, type RemoteParent } from './spans/traceparent.js'
export { UsageError, type UsageInput, type TokenInput } from './spans/usage-input.js'
export { cacheHitRatio } from './spans/usage-totals.js'
export type { ModelPrice, PriceTable } from './spans/prices.js'
export type { SpanRecordFields, ModelUsage, TokenCount } from '../sinks/shared/span-record.js'
export { metric, METRIC_UNITS, type MetricFields, type MetricUnit } from '../sinks/shared/metric.js'
export { default } from './transport/worker.js'
export type { Sink, SinkFactory, SinkSetup, SinkCallContext, SinkResult, SinkRole, LogRecord } from '../sinks/sink.js'
export type { SinkOption } from './options/sluice-options.js'
export { SINK_FAIL_REASONS, type SinkStats, type SinkStatsMap, type SinkFailReason } from './counters/sink-counters.js'
export { createSluice, WORKER_ENTRY, type Sluice } from './sluice.js'
export { closeOnSignals, type CloseOnSignalsOptions } from './close-on-signals.js'
export type { SluiceDestination } from './transport/sluice-destination.js'
export { sluiceWorkerOptions } from './transport/worker-flags.js'
export { SluiceInsideWorkerError } from './transport/inside-sluice-worker.js'

import { retainFlushingStreams } from './transport/retain-flushing-streams.js'
// An app that imports pino-sluice gets a `transport.flush(cb)` of pino.transport() that survives a GC (see the file).
retainFlushingStreams()
