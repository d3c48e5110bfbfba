// Owned by the CloudWatch work (issue 5).
import type { Counters } from '../../src/counters/counters.js'
import type { Stage } from '../sink.js'
import type { CloudWatchOptions } from './cloudwatch-options.js'

export function createMetricsStage(_options: CloudWatchOptions | undefined, _counters: Counters): Stage | undefined {
  return undefined
}
