/**
 * The OpenTelemetry SDK setup the tests trace with. `TracerProvider` comes from
 * @opentelemetry/sdk-trace on both lines the tests run: 3.x with api 1.10 (the
 * devDependencies, Node 22.15+) and 2.x with api 1.9 (test/peers/node20, which
 * `.ci/peers node20` puts in place for the Node 20 leg). It has no register(), which
 * NodeTracerProvider had: registerGlobals() sets what register() set.
 */
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { TracerProvider } from '@opentelemetry/sdk-trace'

export { TracerProvider }

/** The global tracer provider, context manager and W3C propagator an app's setup registers. */
export function registerGlobals(): void {
  trace.setGlobalTracerProvider(new TracerProvider())
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
}
