/**
 * An app that calls a model: each request is a trace, each model call a span
 * with its token usage and cost, and the logs written inside carry the span's
 * ids. Then the per-trace rollup view answers "what did this request cost?".
 *
 *   node dist/examples/model-call.js     (DATABASE_URL, or an embedded Postgres)
 *
 * The model is a stand-in that answers like Anthropic's Messages API (no
 * network, no key); swap in your client and keep the `recordUsage` call.
 */
import pino from 'pino'
import postgres from 'postgres'
import { createSluice, createTracer, sluiceMixin } from 'pino-sluice'
import { exampleDatabase } from './support/example-database.js'

interface ModelResponse {
  model: string
  content: string
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number }
}

/** Stand-in for `anthropic.messages.create()`: the second call hits the prompt cache. */
let calls = 0
async function callModel(model: string, prompt: string): Promise<ModelResponse> {
  calls++
  await new Promise((resolve) => setTimeout(resolve, 5))
  const cached = calls > 1
  return {
    model,
    content: `An answer to: ${prompt}`,
    usage: { input_tokens: 120, output_tokens: 80, cache_read_input_tokens: cached ? 2000 : 0, cache_creation_input_tokens: cached ? 0 : 2000 },
  }
}

const TABLE = 'example_model_logs'
const database = await exampleDatabase()
try {
  const sluice = createSluice({ postgres: { url: database.url, table: TABLE } })
  // The mixin adds trace_id/span_id to every log line written inside a span.
  const log = pino({ mixin: sluiceMixin }, sluice.transport)
  const tracer = createTracer(log, {
    // USD per million tokens; used when a call reports no costUsd of its own.
    prices: { 'claude-haiku-example': { inputPerMTok: 1, outputPerMTok: 5, cacheReadPerMTok: 0.1, cacheCreationPerMTok: 1.25 } },
  })

  async function answer(question: string): Promise<{ traceId: string; text: string }> {
    return tracer.span('answer question', { attributes: { route: '/ask' } }, async (root) => {
      log.info({ question_chars: question.length }, 'question received')
      const response = await tracer.span('llm.call', async (span) => {
        const reply = await callModel('claude-haiku-example', question)
        span.recordUsage({
          model: reply.model,
          inputTokens: reply.usage.input_tokens,
          outputTokens: reply.usage.output_tokens,
          cacheReadTokens: reply.usage.cache_read_input_tokens,
          cacheCreationTokens: reply.usage.cache_creation_input_tokens,
        })
        span.setPayload({ input: { prompt: question }, output: reply.content }) // goes to S3 when big and `s3` is set
        return reply
      })
      log.info({ answer_chars: response.content.length }, 'answer sent')
      return { traceId: root.traceId, text: response.content }
    })
  }

  const first = await answer('What is a sluice?')
  const second = await answer('And why bound the channel?')
  await sluice.flush()

  const sql = postgres(database.url, { onnotice: () => {} })
  const traces = await sql`select trace_id, root_name, spans, input_tokens, output_tokens, cache_read_tokens,
      cache_creation_tokens, cache_hit_ratio, cost_usd from ${sql(`${TABLE}_spans_traces`)}
    where trace_id in ${sql([first.traceId, second.traceId])} order by start_time`
  for (const t of traces) {
    process.stdout.write(
      `trace ${t.trace_id} ${t.root_name}: ${t.spans} spans, tokens in ${t.input_tokens} out ${t.output_tokens} ` +
        `cache read ${t.cache_read_tokens} write ${t.cache_creation_tokens}, hit ratio ${Number(t.cache_hit_ratio).toFixed(3)}, cost $${t.cost_usd}\n`,
    )
  }
  const [logs] = await sql`select count(*)::int as n from ${sql(TABLE)} where trace_id = ${first.traceId}`
  process.stdout.write(`log lines stored with trace_id ${first.traceId}: ${logs?.n}\n`)
  process.stdout.write(`see one as a tree: sluice trace ${first.traceId} --table ${TABLE}\n`)
  await sql.end()

  await sluice.close()
  const s = sluice.stats.read()
  process.stdout.write(`received=${s.received} written=${s.written} dropped=${s.dropped} failed=${s.failed} spans=${s.spans}\n`)
  if (traces.length !== 2 || s.received !== s.written + s.dropped + s.failed) process.exitCode = 1
} finally {
  await database.stop()
}
