import { COUNTER_NAMES, GAUGES, type CounterName } from '../counters/counter-names.js'
import { SINK_FAIL_REASONS } from '../counters/sink-counters.js'
import type { StatsSnapshot } from './stats-snapshot.js'

const PREFIX = 'pino_sluice_'

/** HELP text per counter; a counter added later without an entry still gets exported with a generic one. */
const HELP: Partial<Record<CounterName, string>> = {
  received: 'Lines the worker read from pino.',
  written: 'Records committed to Postgres.',
  queued_records: 'Records waiting in the bounded channel.',
  queued_bytes: 'Bytes (UTF-8 size of raw lines) waiting in the bounded channel.',
  batches: 'Transactions committed.',
  retries: 'Retries after transient errors.',
  sanitized: 'Records kept after removing characters Postgres refuses.',
  offloaded: 'Payloads offloaded to S3.',
  offloaded_bytes: 'Bytes offloaded to S3.',
  offload_failed: 'Payloads that could not be offloaded.',
  metrics_sent: 'Metric datapoints sent to CloudWatch.',
  metrics_dropped: 'Metric datapoints dropped because the metrics stage was off or behind.',
  metrics_invalid: 'Metric datapoints refused by CloudWatch limits before sending.',
  metrics_cardinality: 'Metric datapoints dropped past cloudwatch.maxSeries.',
  metrics_lost: 'Metric datapoints whose sends finally failed.',
  spans: 'Span records committed to the spans table.',
  worker_heap_bytes: 'V8 heap in use by the worker thread.',
  usage_invalid: 'span.recordUsage calls with invalid values (recorded in part or not at all).',
  sink_background_errors: "Errors a custom sink raised outside its calls, caught in the worker ('error' events, unawaited rejections, timer throws).",
  spooled: 'Records appended to the disk spool.',
  replayed: 'Spooled records replayed and settled (written, dropped or failed).',
  recovered: 'Records found at start in the spool segments of earlier processes.',
  spool_records: 'Records waiting in the disk spool.',
  spool_bytes: 'Bytes of frames waiting in the disk spool.',
  spool_oldest_age_ms: 'Age in ms of the oldest record waiting in the disk spool.',
  spool_corrupt_frames: 'Torn or corrupt stretches of spool segments skipped.',
}

/** `dropped_<reason>` and `failed_<reason>` become one family each with a `reason` label. */
const LABELLED: readonly { prefix: string; family: string; help: string }[] = [
  { prefix: 'dropped_', family: 'dropped_total', help: 'Records dropped, by reason.' },
  { prefix: 'failed_', family: 'failed_total', help: 'Records that failed to be written, by reason.' },
]

/**
 * The counters in the Prometheus text exposition format (version 0.0.4).
 * Naming rule: `pino_sluice_<name>_total` for a counter, `pino_sluice_<name>`
 * for a gauge, and `dropped_<reason>` / `failed_<reason>` as
 * `pino_sluice_dropped_total{reason="<reason>"}` / `pino_sluice_failed_total{…}`.
 * The snapshot's `dropped`/`failed` totals are those families' sums, so they
 * are not repeated.
 */
export function prometheusText(snapshot: StatsSnapshot): string {
  const out: string[] = []
  for (const { prefix, family, help } of LABELLED) {
    out.push(`# HELP ${PREFIX}${family} ${help}`, `# TYPE ${PREFIX}${family} counter`)
    for (const name of COUNTER_NAMES) {
      if (name.startsWith(prefix)) out.push(`${PREFIX}${family}{reason="${name.slice(prefix.length)}"} ${snapshot.counters[name]}`)
    }
  }
  for (const name of COUNTER_NAMES) {
    if (LABELLED.some(({ prefix }) => name.startsWith(prefix))) continue
    const gauge = GAUGES.has(name)
    const metric = `${PREFIX}${name}${gauge ? '' : '_total'}`
    out.push(`# HELP ${metric} ${HELP[name] ?? `pino-sluice counter ${name}.`}`, `# TYPE ${metric} ${gauge ? 'gauge' : 'counter'}`, `${metric} ${snapshot.counters[name]}`)
  }
  const sinks = Object.entries(snapshot.sinks ?? {})
  if (sinks.length > 0) {
    out.push(`# HELP ${PREFIX}sink_delivered_total Records each sink delivered.`, `# TYPE ${PREFIX}sink_delivered_total counter`)
    for (const [name, stats] of sinks) out.push(`${PREFIX}sink_delivered_total{sink="${escapeLabel(name)}"} ${stats.delivered}`)
    out.push(`# HELP ${PREFIX}sink_failed_total Records a sink failed to deliver, by reason.`, `# TYPE ${PREFIX}sink_failed_total counter`)
    for (const [name, stats] of sinks) {
      for (const reason of SINK_FAIL_REASONS) out.push(`${PREFIX}sink_failed_total{sink="${escapeLabel(name)}",reason="${reason}"} ${stats[`failed_${reason}`] ?? 0}`)
    }
  }
  const info = `${PREFIX}writer_info`
  out.push(`# HELP ${info} The process publishing these counters.`, `# TYPE ${info} gauge`)
  out.push(`${info}{hostname="${escapeLabel(snapshot.writer.hostname)}",pid="${snapshot.writer.pid}"} 1`)
  return `${out.join('\n')}\n`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
