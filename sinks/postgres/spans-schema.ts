import type { Sql } from './connect.js'
import type { Migration } from './migrations.js'
import type { SpanRow } from './span-row.js'
import type { TableNames } from './table-names.js'

/**
 * Inserts span rows sent as one jsonb parameter, like the logs (see
 * logs-schema.ts). `model_usage` arrives as JSON text and is cast in SQL, so
 * token counts beyond 2^53 become exact jsonb numbers.
 */
export async function insertSpanRows(tx: Sql, { schema, spans }: TableNames, rows: readonly SpanRow[]): Promise<void> {
  await tx`
    insert into ${tx(schema)}.${tx(spans)} (
      trace_id, span_id, parent_span_id, name, start_time, end_time, duration_ms, status, error_type, error_message,
      attributes, events, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, model_usage,
      payload, hostname, pid, writer_id, seq, data)
    select r.trace_id, r.span_id, r.parent_span_id, r.name, to_timestamp(r.start / 1000.0), to_timestamp(r."end" / 1000.0),
      r.duration_ms, r.status, r.error_type, r.error_message, r.attributes, r.events,
      r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens, r.cost_usd, r.model_usage::jsonb,
      r.payload, r.hostname, r.pid, r.writer_id, r.seq, r.data
    from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as r(
      trace_id text, span_id text, parent_span_id text, name text, start double precision, "end" double precision,
      duration_ms double precision, status text, error_type text, error_message text, attributes jsonb, events jsonb,
      input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_creation_tokens bigint, cost_usd numeric,
      model_usage text, payload jsonb, hostname text, pid integer, writer_id text, seq bigint, data jsonb)`
}

/**
 * The spans table (`<logs>_spans`) and the per-trace rollup view
 * (`<logs>_spans_traces`). Index and view names use short suffixes so they
 * stay within Postgres's 63-character identifiers for a 48-character logs table.
 */
/** Column definitions of the spans table, shared by the plain (v1) and partitioned (v0) creations. */
export const SPAN_COLUMNS_SQL = `
  id bigint generated always as identity,
  trace_id text not null,
  span_id text not null,
  parent_span_id text,
  name text not null,
  start_time timestamptz not null,
  end_time timestamptz not null,
  duration_ms double precision not null,
  status text not null,
  error_type text,
  error_message text,
  attributes jsonb not null default '{}'::jsonb,
  events jsonb not null default '[]'::jsonb,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cache_read_tokens bigint not null default 0,
  cache_creation_tokens bigint not null default 0,
  cost_usd numeric,
  model_usage jsonb not null default '{}'::jsonb,
  payload jsonb,
  hostname text,
  pid integer,
  writer_id text not null,
  seq bigint not null,
  data jsonb not null default '{}'::jsonb`

export const spansMigrations: readonly Migration[] = [
  {
    component: 'spans',
    version: 1,
    description: 'spans table with token usage and cost, per-trace rollup view',
    async up(tx, { schema, spans }) {
      await tx`create table if not exists ${tx(schema)}.${tx(spans)} (${tx.unsafe(SPAN_COLUMNS_SQL)})`
      // One writer's seqs run across the logs and spans tables (the commit ledger covers both).
      await tx`create unique index if not exists ${tx(`${spans}_wseq`)} on ${tx(schema)}.${tx(spans)} (writer_id, seq, start_time)`
      await tx`create index if not exists ${tx(`${spans}_trace`)} on ${tx(schema)}.${tx(spans)} (trace_id, start_time)`
      await tx`create index if not exists ${tx(`${spans}_start`)} on ${tx(schema)}.${tx(spans)} using brin (start_time)`
      // A span's usage is only its own (never its children's), so plain sums are the trace totals.
      await tx`create or replace view ${tx(schema)}.${tx(`${spans}_traces`)} as
        select
          trace_id,
          (array_agg(name order by start_time, duration_ms desc))[1] as root_name,
          min(start_time) as start_time,
          max(end_time) as end_time,
          extract(epoch from max(end_time) - min(start_time)) * 1000 as duration_ms,
          count(*) as spans,
          count(*) filter (where status = 'error') as errors,
          sum(input_tokens) as input_tokens,
          sum(output_tokens) as output_tokens,
          sum(cache_read_tokens) as cache_read_tokens,
          sum(cache_creation_tokens) as cache_creation_tokens,
          sum(cost_usd) as cost_usd,
          sum(cache_read_tokens)
            / nullif(sum(input_tokens) + sum(cache_read_tokens) + sum(cache_creation_tokens), 0) as cache_hit_ratio
        from ${tx(schema)}.${tx(spans)}
        group by trace_id`
    },
  },
]
