import type postgres from 'postgres'
import type { TableNames } from '../../sinks/postgres/table-names.js'
import { isPointer, type S3Pointer } from '../../sinks/s3/pointer.js'

export interface TokenTotals {
  input: bigint
  output: bigint
  cacheRead: bigint
  cacheCreation: bigint
}

export interface TraceModelUsage extends TokenTotals {
  model: string
  costUsd: number | null
}

export interface TraceSpan {
  spanId: string
  parentSpanId: string | null
  name: string
  /** Epoch ms with microseconds (a Date would cut them off). */
  startMs: number
  endMs: number
  durationMs: number
  status: string
  errorType: string | null
  errorMessage: string | null
  attributes: Record<string, unknown>
  events: unknown[]
  tokens: TokenTotals
  costUsd: number | null
  models: TraceModelUsage[]
  /** Which writer stored the span record, and its sequence number (emitted when the span ended). */
  writerId: string
  seq: number
  /** The row's id in the spans table: `sluice materialize <rowId> --table <logs table>_spans`. */
  rowId: string
  /** Whether the row has a payload (inline or offloaded). */
  hasPayload: boolean
  /** Fields offloaded to S3, by field (`payload`, `attributes`, `events`, or a field kept in `data`). */
  pointers: Record<string, S3Pointer>
}

export interface TraceLog {
  time: Date
  level: number
  msg: string | null
  spanId: string | null
  data: Record<string, unknown>
  writerId: string
  seq: number
  /** The row's id in the logs table: `sluice materialize <rowId>`. */
  rowId: string
  /** Fields of `data` offloaded to S3, by field. */
  pointers: Record<string, S3Pointer>
}

/** The trace's totals over every stored span, for when not all spans were loaded. */
export interface SpanTotals extends TokenTotals {
  costUsd: number | null
  spans: number
  errors: number
  durationMs: number
}

/** Everything stored about one trace: its spans and the log lines written inside them (the first `limit` of each). */
export interface Trace {
  traceId: string
  spans: TraceSpan[]
  logs: TraceLog[]
  /** Rows stored but not loaded because of the limit. */
  omitted: { spans: number; logs: number }
  /** Set when spans were left out: the totals over all of them, counted by the database. */
  spanTotals?: SpanTotals
}

export interface LoadTraceOptions {
  /** At most this many spans and this many log lines, the earliest first; undefined: all. */
  limit?: number | undefined
}

// postgres.js returns bigint and numeric as strings; counts stay exact as bigint.
const big = (value: unknown): bigint => (typeof value === 'string' && value !== '' ? BigInt(value) : 0n)
const money = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

/** The top-level fields of an object that are S3 pointers. */
function pointersIn(value: unknown): Record<string, S3Pointer> {
  const found: Record<string, S3Pointer> = {}
  if (value === null || typeof value !== 'object') return found
  for (const [field, v] of Object.entries(value)) if (isPointer(v)) found[field] = v
  return found
}

/** How many rows of the trace a table holds, asked only when the limit was reached. */
async function countRows(sql: postgres.Sql, table: postgres.PendingQuery<postgres.Row[]>, traceId: string): Promise<number> {
  const [row] = await sql`select count(*)::float8 as n from ${table} where trace_id = ${traceId}`
  return Number(row?.n ?? 0)
}

async function loadSpanTotals(sql: postgres.Sql, spansTable: postgres.PendingQuery<postgres.Row[]>, traceId: string): Promise<SpanTotals> {
  const [row] = await sql`
    select count(*)::float8 as spans, (count(*) filter (where status = 'error'))::float8 as errors,
      sum(input_tokens)::text as input, sum(output_tokens)::text as output, sum(cache_read_tokens)::text as cache_read,
      sum(cache_creation_tokens)::text as cache_creation, sum(cost_usd)::text as cost,
      ((extract(epoch from max(end_time)) - extract(epoch from min(start_time))) * 1000)::float8 as duration_ms
    from ${spansTable} where trace_id = ${traceId}`
  return {
    spans: Number(row?.spans ?? 0),
    errors: Number(row?.errors ?? 0),
    input: big(row?.input),
    output: big(row?.output),
    cacheRead: big(row?.cache_read),
    cacheCreation: big(row?.cache_creation),
    costUsd: money(row?.cost),
    durationMs: Number(row?.duration_ms ?? 0),
  }
}

/**
 * Reads one trace with three indexed queries (spans, their per-model usage,
 * logs by trace_id). The limit is applied by the database: a trace with
 * millions of rows (a client picks the trace id) costs the reader no more
 * than `limit` rows of each kind, plus a count of the rest.
 */
export async function loadTrace(sql: postgres.Sql, names: TableNames, traceId: string, options: LoadTraceOptions = {}): Promise<Trace> {
  const { limit } = options
  const limitClause = limit === undefined ? sql`` : sql`limit ${limit}`
  const spansTable = sql`${sql(names.schema)}.${sql(names.spans)}`
  const logsTable = sql`${sql(names.schema)}.${sql(names.logs)}`
  const spanRows = await sql`
    select id::text as row_id, span_id, parent_span_id, name, duration_ms, writer_id, seq::float8 as seq,
      payload is not null as has_payload,
      -- Only pointers are read back: an inline payload may be large and the tree does not show it.
      (select jsonb_object_agg(f.key, f.value) from jsonb_each(jsonb_build_object('payload', payload, 'attributes', attributes, 'events', events) || coalesce(data, '{}'::jsonb)) f
        where jsonb_typeof(f.value) = 'object' and f.value ? '$ref') as pointers,
      (extract(epoch from start_time) * 1000)::float8 as start_ms, (extract(epoch from end_time) * 1000)::float8 as end_ms, status, error_type, error_message,
      attributes, events, input_tokens::text, output_tokens::text, cache_read_tokens::text, cache_creation_tokens::text,
      cost_usd::text
    from ${spansTable} where trace_id = ${traceId} order by start_time, duration_ms desc, seq ${limitClause}`
  // ->> reads jsonb numbers as text, so counts beyond 2^53 keep every digit. Only the spans loaded above.
  const modelRows = await sql`
    select s.span_id, m.key as model, m.value->>'input_tokens' as input, m.value->>'output_tokens' as output,
      m.value->>'cache_read_tokens' as cache_read, m.value->>'cache_creation_tokens' as cache_creation,
      m.value->>'cost_usd' as cost
    from (select span_id, model_usage from ${spansTable} where trace_id = ${traceId} order by start_time, duration_ms desc, seq ${limitClause}) s,
      jsonb_each(s.model_usage) m
    order by s.span_id, m.key`
  const logRows = await sql`
    select id::text as row_id, time, level, msg, span_id, data, writer_id, seq::float8 as seq from ${logsTable}
    where trace_id = ${traceId} order by time, seq ${limitClause}`
  const spansCut = limit !== undefined && spanRows.length >= limit
  const logsCut = limit !== undefined && logRows.length >= limit
  const omitted = {
    spans: spansCut ? (await countRows(sql, spansTable, traceId)) - spanRows.length : 0,
    logs: logsCut ? (await countRows(sql, logsTable, traceId)) - logRows.length : 0,
  }
  const spanTotals = omitted.spans > 0 ? await loadSpanTotals(sql, spansTable, traceId) : undefined

  const models = new Map<string, TraceModelUsage[]>()
  for (const row of modelRows) {
    const list = models.get(row.span_id as string) ?? []
    list.push({
      model: row.model as string,
      input: big(row.input),
      output: big(row.output),
      cacheRead: big(row.cache_read),
      cacheCreation: big(row.cache_creation),
      costUsd: money(row.cost),
    })
    models.set(row.span_id as string, list)
  }
  return {
    traceId,
    spans: spanRows.map((row) => ({
      spanId: row.span_id as string,
      parentSpanId: row.parent_span_id as string | null,
      name: row.name as string,
      startMs: Number(row.start_ms),
      endMs: Number(row.end_ms),
      durationMs: Number(row.duration_ms),
      status: row.status as string,
      errorType: row.error_type as string | null,
      errorMessage: row.error_message as string | null,
      attributes: row.attributes as Record<string, unknown>,
      events: row.events as unknown[],
      tokens: {
        input: big(row.input_tokens),
        output: big(row.output_tokens),
        cacheRead: big(row.cache_read_tokens),
        cacheCreation: big(row.cache_creation_tokens),
      },
      costUsd: money(row.cost_usd),
      models: models.get(row.span_id as string) ?? [],
      writerId: row.writer_id as string,
      seq: Number(row.seq),
      rowId: row.row_id as string,
      hasPayload: row.has_payload === true,
      pointers: pointersIn(row.pointers),
    })),
    logs: logRows.map((row) => ({
      time: row.time as Date,
      level: Number(row.level),
      msg: row.msg as string | null,
      spanId: row.span_id as string | null,
      data: row.data as Record<string, unknown>,
      writerId: row.writer_id as string,
      seq: Number(row.seq),
      rowId: row.row_id as string,
      pointers: pointersIn(row.data),
    })),
    omitted,
    ...(spanTotals ? { spanTotals } : {}),
  }
}
