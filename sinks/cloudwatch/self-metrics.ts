/**
 * The pipeline's own health as CloudWatch metrics, so drops can be alarmed on.
 * Monotonic counters are sent as the delta since the previous flush (Sum over
 * a period = what happened in it); Dropped and Failed carry a Reason dimension
 * and are sent only when non-zero (alarm with TreatMissingData=notBreaching).
 */
import type { Counting } from '../shared/counting.js'
import type { MetricIntake } from './metric-intake.js'

interface Delta {
  readonly name: string
  readonly reason?: string
  /** Sent even when zero, so the series is continuous. */
  readonly always: boolean
}

const FIXED: Readonly<Record<string, Delta>> = {
  received: { name: 'Received', always: true },
  written: { name: 'Written', always: true },
  offloaded: { name: 'Offloaded', always: false },
}

/** Which metric a counter feeds: the fixed ones, and every `dropped_<reason>` / `failed_<reason>` (whatever reasons the pipeline has). */
function deltaOf(counter: string): Delta | undefined {
  const fixed = FIXED[counter]
  if (fixed) return fixed
  const loss = /^(dropped|failed)_(.+)$/.exec(counter)
  return loss ? { name: loss[1] === 'dropped' ? 'Dropped' : 'Failed', reason: loss[2] as string, always: false } : undefined
}

export class SelfMetrics {
  private readonly last = new Map<string, number>()

  constructor(
    private readonly counters: Counting,
    private readonly intake: MetricIntake,
  ) {}

  /** Adds the deltas since the previous call and the current queue depth. */
  sample(now: number): void {
    for (const [counter, current] of Object.entries(this.counters.snapshot())) {
      const delta = deltaOf(counter)
      if (!delta) continue
      const change = current - (this.last.get(counter) ?? 0)
      this.last.set(counter, current)
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
