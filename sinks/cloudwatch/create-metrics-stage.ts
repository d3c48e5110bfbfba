import type { Counters } from '../../src/counters/counters.js'
import type { Stage } from '../sink.js'
import type { CloudWatchOptions } from './cloudwatch-options.js'
import { MetricsStage } from './metrics-stage.js'

/** The CloudWatch metrics stage, or undefined when `options.cloudwatch` is absent. */
export function createMetricsStage(options: CloudWatchOptions | undefined, counters: Counters): Stage | undefined {
  return options === undefined ? undefined : new MetricsStage(options, counters)
}
