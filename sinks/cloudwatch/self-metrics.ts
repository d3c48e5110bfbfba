/**
 * The pipeline's own health as CloudWatch metrics, so drops can be alarmed on.
 * Monotonic counters are sent as the delta since the previous flush (Sum over
 * a period = what happened in it); Dropped and Failed carry a Reason dimension
 * and are sent only when non-zero (alarm with TreatMissingData=notBreaching).
 */
import { DROP_REASONS, FAIL_REASONS, type CounterName } from '../../src/counters/counter-names.js'
import type { Counters } from '../../src/counters/counters.js'
import type { MetricIntake } from './metric-intake.js'

interface Delta {
  readonly counter: CounterName
  readonly name: string
  readonly reason?: string
  /** Sent even when zero, so the series is continuous. */
  readonly always: boolean
}

const DELTAS: readonly Delta[] = [
  { counter: 'received', name: 'Received', always: true },
  { counter: 'written', name: 'Written', always: true },
  ...DROP_REASONS.map((reason): Delta => ({ counter: `dropped_${reason}`, name: 'Dropped', reason, always: false })),
  ...FAIL_REASONS.map((reason): Delta => ({ counter: `failed_${reason}`, name: 'Failed', reason, always: false })),
  { counter: 'offloaded', name: 'Offloaded', always: false },
]

export class SelfMetrics {
  private readonly last = new Map<CounterName, number>()

  constructor(
    private readonly counters: Counters,
    private readonly intake: MetricIntake,
  ) {}

  /** Adds the deltas since the previous call and the current queue depth. */
  sample(now: number): void {
    const values = this.counters.snapshot()
    for (const delta of DELTAS) {
      const current = values[delta.counter]
      const change = current - (this.last.get(delta.counter) ?? 0)
      this.last.set(delta.counter, current)
      if (change === 0 && !delta.always) continue
      this.intake.add(delta.name, change, 'Count', delta.reason ? { Reason: delta.reason } : undefined, now, now, false)
    }
    this.queueDepth(now)
  }

  /** A gauge: sampled on every batch and flush, so Maximum shows the worst moment. */
  queueDepth(now: number): void {
    this.intake.add('QueueDepth', this.counters.values.queued_records, 'Count', undefined, now, now, false)
  }

  /** Time the primary sink took to settle one batch (commit, retries included). */
  flushLatency(ms: number, now: number): void {
    this.intake.add('FlushLatency', ms, 'Milliseconds', undefined, now, now, false)
  }
}
