/**
 * The CloudWatch side: one SDK client, a one-time check that credentials and a
 * region resolve through the SDK's default chains (env, shared config/profile,
 * SSO, web identity, ECS/EC2 role — not just AWS_ACCESS_KEY_ID), and one
 * PutMetricData call that reports whether a failure is worth retrying later.
 * Retries with backoff and jitter inside one call are the SDK's standard
 * strategy (Throttling, 5xx, timeouts).
 */
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch'
import type { CloudWatchOptions } from './cloudwatch-options.js'
import type { Deadline } from '../shared/deadline.js'

export type SendResult = { ok: true } | { ok: false; transient: boolean; problem: string }

/** Attempts per PutMetricData call (the first try included), spaced by the SDK's jittered backoff. */
const MAX_ATTEMPTS = 4

function describeError(error: unknown): { transient: boolean; problem: string } {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown }
  const status = e.$metadata?.httpStatusCode
  const name = e.name ?? 'Error'
  const transient = status === undefined || status >= 500 || status === 429 || /throttl|timeout|abort/i.test(name) || e.$retryable !== undefined
  const message = (e.message ?? '').split('\n')[0]?.slice(0, 200) ?? ''
  return { transient, problem: `${name}${status ? ` (HTTP ${status})` : ''}: ${message}` }
}

type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch')

export class CloudWatchSender {
  /** The SDK is an optional peer dependency, loaded only when the CloudWatch stage is configured. */
  private readonly sdk: Promise<CloudWatchSdk> = import('@aws-sdk/client-cloudwatch')
  private readonly client: Promise<CloudWatchClient>
  private usable: Promise<string | undefined> | undefined

  constructor(private readonly options: CloudWatchOptions) {
    this.client = this.sdk.then(
      ({ CloudWatchClient }) =>
        new CloudWatchClient({
          region: options.region,
          endpoint: options.endpoint,
          maxAttempts: MAX_ATTEMPTS,
          // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes and the request hangs on.
          requestHandler: { requestTimeout: options.requestTimeoutMs, connectionTimeout: Math.min(options.requestTimeoutMs, 5000), throwOnRequestTimeout: true },
        }),
    )
    // A missing SDK is reported at start (build-sinks) and by unusable(); never as an unhandled rejection.
    this.client.catch(() => {})
  }

  /** Undefined when credentials and region resolve; else why not (never the credentials themselves). */
  unusable(): Promise<string | undefined> {
    this.usable ??= (async () => {
      let client: CloudWatchClient
      try {
        client = await this.client
      } catch {
        return 'the package @aws-sdk/client-cloudwatch is not installed (npm install @aws-sdk/client-cloudwatch)'
      }
      try {
        await client.config.region()
      } catch {
        return 'no AWS region: set options.cloudwatch.region, AWS_REGION, or a region in the AWS profile'
      }
      try {
        await client.config.credentials()
      } catch {
        return 'no AWS credentials resolved through the default provider chain (env, shared config/profile, SSO, web identity, ECS/EC2 role)'
      }
      return undefined
    })()
    return this.usable
  }

  /** One PutMetricData call, ended by `stop` (the exit budget) whatever the SDK does. */
  async put(datums: MetricDatum[], stop: Deadline): Promise<SendResult> {
    const late: SendResult = { ok: false, transient: false, problem: 'the exit budget ran out' }
    if (stop.signal.aborted) return late
    const sent = Promise.all([this.client, this.sdk])
      .then(([client, { PutMetricDataCommand }]) =>
        client.send(new PutMetricDataCommand({ Namespace: this.options.namespace, MetricData: datums }), { abortSignal: stop.signal }),
      )
      .then((): SendResult => ({ ok: true }))
      .catch((error: unknown): SendResult => ({ ok: false, ...describeError(error) }))
    // The SDK sleeps between attempts without watching the signal; the race keeps the exit budget.
    const raced = await stop.race(sent)
    return raced.settled ? raced.value : late
  }

  close(): void {
    this.client.then((client) => client.destroy()).catch(() => {})
  }
}
