// Owned by the S3 offload work (issue 4).
import type { Counters } from '../../src/counters/counters.js'
import type { Stage } from '../sink.js'
import type { S3Options } from './s3-options.js'

export function createOffloadStage(_options: S3Options | undefined, _counters: Counters): Stage | undefined {
  return undefined
}
