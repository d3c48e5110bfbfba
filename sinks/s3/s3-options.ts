// Owned by the S3 offload work (issue 4). Resolves `options.s3`; undefined when absent.
import { OptionsError } from '../../src/options/option-reader.js'

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface S3Options {}

export function resolveS3Options(root: Record<string, unknown>): S3Options | undefined {
  if (root.s3 === undefined) return undefined
  throw new OptionsError('options.s3 is not supported yet')
}
