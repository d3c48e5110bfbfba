/**
 * The tracer on the app thread: context propagation, errors and traceparent,
 * observed on the JSON lines a real pino logger writes (captured in memory).
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createTracer, formatTraceparent, parseTraceparent, sluiceMixin } from '../../src/index.js'

interface Line {
  [key: string]: unknown
  sluice?: string
  trace_id?: string
  span_id?: string
  parent_span_id?: string
  name?: string
}

function capture() {
  const lines: Line[] = []
  const logger = pino({ mixin: sluiceMixin }, { write: (text: string) => lines.push(JSON.parse(text) as Line) })
  const spans = () => lines.filter((l) => l.sluice === 'span')
  const span = (name: string) => {
    const found = spans().filter((l) => l.name === name)
    expect(found, `exactly one span record named ${name}`).toHaveLength(1)
    return found[0] as Line
  }
  return { lines, logger, spans, span, tracer: createTracer(logger) }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))

describe('tracer context', () => {
  it('gives nested spans the parent trace and span ids across await', async () => {
    const { tracer, span } = capture()
    const value = await tracer.span('outer', async () => {
      await tick()
      return tracer.span('inner', async () => {
        await tick()
        return tracer.span('innermost', async () => 42)
      })
    })
    expect(value).toBe(42)
    const outer = span('outer')
    const inner = span('inner')
    const innermost = span('innermost')
    expect(outer.trace_id).toMatch(/^[0-9a-f]{32}$/)
    expect(outer.span_id).toMatch(/^[0-9a-f]{16}$/)
    expect(outer.parent_span_id).toBeUndefined()
    expect(inner).toMatchObject({ trace_id: outer.trace_id, parent_span_id: outer.span_id })
    expect(innermost).toMatchObject({ trace_id: outer.trace_id, parent_span_id: inner.span_id })
    expect(new Set([outer.span_id, inner.span_id, innermost.span_id]).size).toBe(3)
  })

  it('keeps Promise.all siblings apart: each is a child of the common parent, not of each other', async () => {
    const { tracer, span, logger, lines } = capture()
    await tracer.span('parent', () =>
      Promise.all(
        ['a', 'b', 'c'].map((name, i) =>
          tracer.span(name, async () => {
            await new Promise((resolve) => setTimeout(resolve, 3 - i))
            logger.info({ sibling: name }, 'inside')
          }),
        ),
      ),
    )
    const parent = span('parent')
    for (const name of ['a', 'b', 'c']) {
      const child = span(name)
      expect(child).toMatchObject({ trace_id: parent.trace_id, parent_span_id: parent.span_id })
      const log = lines.find((l) => l.sibling === name)
      expect(log).toMatchObject({ trace_id: parent.trace_id, span_id: child.span_id, msg: 'inside' })
    }
  })

  it('puts trace_id and span_id on plain log lines inside a span, and none outside', async () => {
    const { tracer, logger, lines, span } = capture()
    logger.info('before')
    await tracer.span('work', async () => {
      logger.info('start')
      await tick()
      logger.warn({ trace_id: 'explicit wins' }, 'explicit')
    })
    logger.info('after')
    const work = span('work')
    const byMsg = (msg: string) => lines.find((l) => l.msg === msg) as Line
    expect(byMsg('before').trace_id).toBeUndefined()
    expect(byMsg('after').span_id).toBeUndefined()
    expect(byMsg('start')).toMatchObject({ trace_id: work.trace_id, span_id: work.span_id })
    expect(byMsg('explicit')).toMatchObject({ trace_id: 'explicit wins', span_id: work.span_id })
  })

  it('records error status with type and message, rethrows, and still emits one record', async () => {
    const { tracer, span } = capture()
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined'
    }
    await expect(
      tracer.span('pay', async () => {
        await tick()
        throw new PaymentDeclined('card expired')
      }),
    ).rejects.toThrow('card expired')
    await expect(tracer.span('odd', () => Promise.reject('just a string'))).rejects.toBe('just a string')
    expect(span('pay')).toMatchObject({ status: 'error', error: { type: 'PaymentDeclined', message: 'card expired' }, level: 50 })
    expect(span('odd')).toMatchObject({ status: 'error', error: { type: 'string', message: 'just a string' } })
  })

  it('records ok spans at info with timing that covers the callback', async () => {
    const { tracer, span } = capture()
    await tracer.span('sleep', { attributes: { route: '/checkout' } }, () => new Promise((resolve) => setTimeout(resolve, 20)))
    const record = span('sleep')
    expect(record).toMatchObject({ status: 'ok', level: 30, attributes: { route: '/checkout' } })
    expect(record.duration_ms as number).toBeGreaterThanOrEqual(15)
    // Epoch milliseconds near 1.8e12 carry ~0.00024 ms of double precision: agree to a hundredth of a ms.
    expect(record.end_time as number).toBeCloseTo((record.start_time as number) + (record.duration_ms as number), 2)
    expect(record.error).toBeUndefined()
  })

  it('joins the trace of a valid incoming traceparent and starts a new trace for an invalid one', async () => {
    const { tracer, span } = capture()
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await tracer.span('joined', { traceparent: header }, async () => {})
    expect(span('joined')).toMatchObject({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', parent_span_id: '00f067aa0ba902b7' })
    const invalid = [
      'garbage',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero parent id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // forbidden version
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has nothing after flags
      '',
    ]
    for (const [i, bad] of invalid.entries()) {
      expect(parseTraceparent(bad), bad).toBeUndefined()
      await tracer.span(`fresh${i}`, { traceparent: bad }, async () => {})
      const fresh = span(`fresh${i}`)
      expect(fresh.trace_id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
      expect(fresh.parent_span_id).toBeUndefined()
    }
    // A later version may append fields; its first four still count.
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    })
  })

  it('produces a traceparent for outgoing calls that round-trips', async () => {
    const { tracer } = capture()
    await tracer.span('client', async (span) => {
      const header = span.traceparent()
      expect(header).toBe(formatTraceparent(span.traceId, span.spanId))
      expect(parseTraceparent(header)).toEqual({ traceId: span.traceId, spanId: span.spanId, flags: 1 })
    })
  })

  it('supports manual spans: startSpan, withSpan, end once, and parent: null for a new trace', async () => {
    const { tracer, span, spans, logger, lines } = capture()
    const manual = tracer.startSpan('manual', { attributes: { a: 1 } })
    expect(tracer.currentSpan()).toBeUndefined()
    await tracer.withSpan(manual, async () => {
      expect(tracer.currentSpan()).toBe(manual)
      logger.info('in manual')
      await tracer.span('child', async () => {})
      await tracer.span('detached', { parent: null }, async () => {})
    })
    manual.setAttributes({ b: 2 }).addEvent('checkpoint', { step: 1 })
    manual.end()
    manual.end()
    expect(spans().filter((s) => s.name === 'manual')).toHaveLength(1)
    expect(span('manual')).toMatchObject({ attributes: { a: 1, b: 2 }, events: [{ name: 'checkpoint', attributes: { step: 1 } }] })
    expect(span('child')).toMatchObject({ trace_id: manual.traceId, parent_span_id: manual.spanId })
    expect(span('detached').trace_id).not.toBe(manual.traceId)
    expect(span('detached').parent_span_id).toBeUndefined()
    expect(lines.find((l) => l.msg === 'in manual')).toMatchObject({ span_id: manual.spanId })
    expect(() => manual.setAttributes({ late: true })).toThrow(/after end/)
    expect(() => manual.recordUsage({ model: 'm', inputTokens: 1, outputTokens: 1 })).toThrow(/after end/)
  })

  it('ending a span by hand inside tracer.span emits one record, and a later throw still rethrows', async () => {
    const { tracer, spans } = capture()
    await expect(
      tracer.span('early', async (span) => {
        span.end()
        throw new Error('after end')
      }),
    ).rejects.toThrow('after end')
    expect(spans()).toHaveLength(1)
    expect(spans()[0]).toMatchObject({ status: 'ok' })
  })

  it('stores payload as one top-level field and validates the shape', async () => {
    const { tracer, span } = capture()
    await tracer.span('llm', async (s) => {
      s.setPayload({ input: { prompt: 'hi' } })
      s.setPayload({ output: 'hello' })
      expect(() => s.setPayload({ prompt: 'x' } as never)).toThrow(/unknown key "prompt"/)
    })
    expect(span('llm').payload).toEqual({ input: { prompt: 'hi' }, output: 'hello' })
  })

  it('rejects bad arguments at the call site', async () => {
    const { tracer } = capture()
    expect(() => tracer.startSpan('')).toThrow(/non-empty name/)
    expect(() => tracer.span('x', {} as never)).toThrow(/last argument must be the function/)
    expect(() => tracer.startSpan('x', { parent: { traceId: 'abc', spanId: 'def' } })).toThrow(/parent must be a span/)
    expect(() => createTracer(pino(), { prices: { m: { inputPerMTok: -1 } } } as never)).toThrow(/prices\["m"\]\.inputPerMTok must be a finite number >= 0/)
    expect(() => createTracer(pino(), { level: 'loud' } as never)).toThrow(/level must be one of/)
    expect(() => createTracer(pino(), { price: {} } as never)).toThrow(/unknown option "price"/)
    expect(() => createTracer({} as never)).toThrow(/must be a pino logger/)
  })

  it('refuses unknown span options and points to attributes, before running the callback', async () => {
    const { tracer, spans } = capture()
    let ran = false
    expect(() => tracer.span('root', { user: 7 } as never, () => (ran = true))).toThrow(
      /tracer: span "root": unknown option "user". Span options are attributes, traceparent, parent; put your own fields under attributes, e\.g\. \{ attributes: \{ "user": … \} \}/,
    )
    expect(() => tracer.startSpan('root', { attribute: { a: 1 } } as never)).toThrow(/unknown option "attribute". Did you mean "attributes"\?/)
    expect(() => tracer.startSpan('root', { traceParent: 'x' } as never)).toThrow(/Did you mean "traceparent"\?/)
    expect(() => tracer.startSpan('root', 'fast' as never)).toThrow(/options must be an object \{ attributes, traceparent, parent \}, got "fast"/)
    expect(ran).toBe(false)
    expect(spans()).toEqual([])
    // undefined options are the same as none
    await tracer.span('fine', undefined as never, () => undefined)
    expect(spans()).toHaveLength(1)
  })

  it('exposes the trace and span ids in code: span.traceId, span.spanId, tracer.currentSpan()', async () => {
    const { tracer, span } = capture()
    let seen: { traceId: string; spanId: string; current: string | undefined } | undefined
    await tracer.span('handler', { attributes: { user: 7 } }, (s) => {
      seen = { traceId: s.traceId, spanId: s.spanId, current: tracer.currentSpan()?.traceId }
    })
    const record = span('handler')
    expect(seen).toEqual({ traceId: record.trace_id, spanId: record.span_id, current: record.trace_id })
    expect(record.attributes).toEqual({ user: 7 })
  })
})
