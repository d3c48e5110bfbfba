/**
 * A custom fan-out sink: forwards error-level records (and worse) to a webhook
 * as one JSON POST per batch. pino-sluice loads this module in its worker
 * thread from `sinks: [{ target: './sinks/error-webhook.js', options }]`.
 *
 * What it answers per batch: records below `minLevel` are not this sink's
 * business and count as delivered; the errors count as delivered when the
 * webhook said 2xx, else as unavailable with the HTTP status as the reason.
 * It never retries: a failed POST is counted (sinks.webhook.failed) and the
 * next batch goes on.
 */
import type { Sink, SinkFactory } from 'pino-sluice'

interface WebhookOptions {
  url: string
  /** Lowest pino level forwarded. Default 50 (error). */
  minLevel?: number
}

const createSink: SinkFactory<WebhookOptions> = (options, setup): Sink => {
  // Checked once, at start: a bad option fails the transport with this message.
  if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) throw new Error(`${setup.optionsPath}.url must be an http(s) URL`)
  const minLevel = options.minLevel ?? 50
  return {
    async write(records, { signal }) {
      const errors = records.filter((record) => record.level >= minLevel)
      const skipped = records.length - errors.length
      if (errors.length === 0) return { delivered: records.length }
      const body = JSON.stringify({ source: 'pino-sluice', records: errors.map((record) => record.value) })
      // The signal aborts at this call's deadline (sinks[].timeoutMs, or the exit budget when the app exits).
      const response = await fetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal })
      if (response.ok) return { delivered: records.length }
      return { delivered: skipped, unavailable: errors.length, reason: `webhook answered HTTP ${response.status}` }
    },
  }
}

export default createSink
