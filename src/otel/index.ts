/**
 * `pino-sluice/otel`: OpenTelemetry spans into pino-sluice's spans table.
 * Needs `@opentelemetry/api` (an optional peer dependency of pino-sluice);
 * the main `pino-sluice` entry never loads it. See docs/opentelemetry.md.
 */
export { SluiceSpanProcessor, type ProcessorLogger, type SluiceSpanProcessorStats } from './sluice-span-processor.js'
export type { SluiceSpanProcessorOptions } from './processor-options.js'
export { otelMixin } from './otel-mixin.js'
// Importing this entry lets createTracer spans join the active OTel span's trace.
import './foreign-span-reader.js'
export { FlushTimeoutError } from './flush-logger.js'
export { GEN_AI, UNKNOWN_MODEL, type UsageProblemKind } from './gen-ai-usage.js'
export type { OtelFields, OtelSpanRecord } from './otel-span-record.js'
export type { ReadableSpanLike } from './readable-span.js'
