/**
 * An HTTP service traced with OpenTelemetry, its spans in pino-sluice's spans
 * table next to its logs: each request is a SERVER span (joining the caller's
 * trace when it sends a `traceparent`), the model call inside it a CLIENT span
 * with the GenAI semantic-convention attributes an LLM instrumentation sets.
 * The GenAI usage lands in the token columns (OTel's input_tokens includes
 * the cached tokens; the input_tokens column does not) and its cost comes
 * from the price table.
 *
 *   node dist/examples/opentelemetry.js     (DATABASE_URL, or an embedded Postgres)
 *
 * With auto-instrumentation (instrumentation-http, an LLM instrumentation)
 * the spans come from there instead; the provider setup stays the same.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { TracerProvider } from '@opentelemetry/sdk-trace'
import pino from 'pino'
import postgres from 'postgres'
import { createSluice } from 'pino-sluice'
import { otelMixin, SluiceSpanProcessor } from 'pino-sluice/otel'
import { exampleDatabase } from './support/example-database.js'

const TABLE = 'example_otel_logs'
const database = await exampleDatabase()
try {
  const sluice = createSluice({ postgres: { url: database.url, table: TABLE } })
  // otelMixin puts the active span's trace_id/span_id on each log line (instrumentation-pino does the same).
  const log = pino({ mixin: otelMixin }, sluice.transport)
  const processor = new SluiceSpanProcessor(log, {
    prices: { 'claude-haiku-example': { inputPerMTok: 1, outputPerMTok: 5, cacheReadPerMTok: 0.1, cacheCreationPerMTok: 1.25 } },
  })
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'answers' }), spanProcessors: [processor] })
  // sdk-trace 3.x has no register(): set the globals it used to set.
  trace.setGlobalTracerProvider(provider)
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const tracer = trace.getTracer('answers-service', '1.0.0')

  /** Stand-in for a model client under an LLM instrumentation: the span and attributes it would record. */
  async function callModel(prompt: string): Promise<string> {
    return tracer.startActiveSpan('chat claude-haiku-example', { kind: SpanKind.CLIENT }, async (span) => {
      span.setAttributes({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'anthropic', 'gen_ai.request.model': 'claude-haiku-example' })
      await new Promise((resolve) => setTimeout(resolve, 5))
      // OTel semantics: input_tokens (1000) includes the 600 read from and 100 written to the prompt cache.
      span.setAttributes({
        'gen_ai.response.model': 'claude-haiku-example',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 50,
        'gen_ai.usage.cache_read.input_tokens': 600,
        'gen_ai.usage.cache_creation.input_tokens': 100,
      })
      log.info({ prompt_chars: prompt.length }, 'model answered')
      span.end()
      return `An answer to: ${prompt}`
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = propagation.extract(context.active(), req.headers)
    await tracer.startActiveSpan(`${req.method} /ask`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'http.route': '/ask' } }, caller, async (span) => {
      try {
        log.info('question received')
        const answer = await callModel(new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '')
        span.setAttribute('http.response.status_code', 200)
        res.end(`${JSON.stringify({ answer, trace_id: span.spanContext().traceId })}\n`)
      } catch (error) {
        span.recordException(error as Error)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'model call failed' })
        res.statusCode = 500
        res.end()
      } finally {
        span.end()
      }
    })
  }

  const server = createServer((req, res) => void handle(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const first = (await (await fetch(`http://127.0.0.1:${port}/ask?q=what+is+a+sluice`)).json()) as { trace_id: string }
  // A caller that is traced itself: the server span joins its trace.
  const callerTrace = '0af7651916cd43dd8448eb211c80319c'
  await fetch(`http://127.0.0.1:${port}/ask?q=why+bound+it`, { headers: { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` } })
  server.close()

  // Settles the spans with the transport (committed); then the transport itself is closed.
  await provider.shutdown()

  const sql = postgres(database.url, { onnotice: () => {} })
  for (const traceId of [first.trace_id, callerTrace]) {
    const [t] = await sql`select root_name, spans, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cache_hit_ratio, cost_usd
      from ${sql(`${TABLE}_spans_traces`)} where trace_id = ${traceId}`
    const [logs] = await sql`select count(*)::int as n from ${sql(TABLE)} where trace_id = ${traceId}`
    process.stdout.write(
      `trace ${traceId} ${t?.root_name}: ${t?.spans} spans, tokens in ${t?.input_tokens} out ${t?.output_tokens} cache read ${t?.cache_read_tokens} ` +
        `write ${t?.cache_creation_tokens}, hit ratio ${Number(t?.cache_hit_ratio).toFixed(3)}, cost $${t?.cost_usd}, ${logs?.n} log lines\n`,
    )
  }
  const [remote] = await sql`select parent_span_id, data->'otel'->>'parent_remote' as remote from ${sql(`${TABLE}_spans`)}
    where trace_id = ${callerTrace} and parent_span_id = 'b7ad6b7169203331'`
  process.stdout.write(`the second request's server span has the caller's span as its remote parent: ${remote?.remote === 'true'}\n`)
  process.stdout.write(`see one as a tree: sluice trace ${first.trace_id} --table ${TABLE}\n`)
  await sql.end()

  await sluice.close()
  const s = sluice.stats.read()
  process.stdout.write(`received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed} spans=${s.spans}\n`)
  if (s.received !== s.written + s.dropped + s.failed) process.exitCode = 1
} finally {
  await database.stop()
}
