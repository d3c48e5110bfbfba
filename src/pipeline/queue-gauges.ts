import { getHeapStatistics } from 'node:v8'
import type { BoundedChannel } from '../channel/bounded-channel.js'
import type { Counters } from '../counters/counters.js'

/** How often at most the worker's heap is sampled: reading it costs more than a batch's other gauges. */
const HEAP_SAMPLE_MS = 100

/** Publishes what waits in the channel (records, bytes) and, at most every HEAP_SAMPLE_MS, the worker's heap. */
export class QueueGauges {
  private heapSampledAt = 0

  constructor(
    private readonly counters: Counters,
    private readonly channel: BoundedChannel,
  ) {}

  publish(): void {
    this.counters.set('queued_records', this.channel.length)
    this.counters.set('queued_bytes', this.channel.bytes)
    const now = Date.now()
    if (now - this.heapSampledAt >= HEAP_SAMPLE_MS) {
      this.heapSampledAt = now
      this.counters.set('worker_heap_bytes', getHeapStatistics().used_heap_size)
    }
    this.counters.publish()
  }
}
