/**
 * The OpenTelemetry SDK the tests trace with, on whichever line is installed: the current one
 * (the devDependencies: @opentelemetry/sdk-trace 3.x's TracerProvider, api 1.10, Node 22.15+)
 * or the Node-20 one (test/peers/node20: sdk-trace-base 2.x's BasicTracerProvider, api 1.9),
 * which `.ci/peers node20` puts in place for the Node 20 leg. Both take the same config, and
 * neither has a register(): registerGlobals() sets what NodeTracerProvider.register() set.
 */
import { context, propagation, trace, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'

export interface SdkTracerProvider extends ApiTracerProvider {
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

export interface SdkTracerProviderConfig {
  resource?: unknown
  spanProcessors?: object[]
}

type SdkTracerProviderClass = new (config?: SdkTracerProviderConfig) => SdkTracerProvider

async function loadTracerProvider(): Promise<{ line: 'current' | 'node20'; TracerProvider: SdkTracerProviderClass }> {
  // Named through a variable: each line's type-check sees only the packages it has.
  const current = '@opentelemetry/sdk-trace'
  const node20 = '@opentelemetry/sdk-trace-base'
  try {
    const sdk = (await import(current)) as { TracerProvider: SdkTracerProviderClass }
    return { line: 'current', TracerProvider: sdk.TracerProvider }
  } catch {
    const sdk = (await import(node20)) as { BasicTracerProvider: SdkTracerProviderClass }
    return { line: 'node20', TracerProvider: sdk.BasicTracerProvider }
  }
}

export const { line: otelLine, TracerProvider } = await loadTracerProvider()

/** The global tracer provider, context manager and W3C propagator an app's setup registers. */
export function registerGlobals(): void {
  trace.setGlobalTracerProvider(new TracerProvider())
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
}
