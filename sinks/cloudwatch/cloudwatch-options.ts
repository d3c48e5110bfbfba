// Owned by the CloudWatch work (issue 5). Resolves `options.cloudwatch`; undefined when absent.
import { OptionsError } from '../../src/options/option-reader.js'

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CloudWatchOptions {}

export function resolveCloudWatchOptions(root: Record<string, unknown>): CloudWatchOptions | undefined {
  if (root.cloudwatch === undefined) return undefined
  throw new OptionsError('options.cloudwatch is not supported yet')
}
