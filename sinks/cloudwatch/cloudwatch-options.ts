/**
 * Resolves `options.cloudwatch`; undefined when absent (no metrics stage).
 * Credentials are deliberately not an option: the SDK's default provider chain
 * (env, shared config/profile, SSO, web identity, ECS/EC2 role) resolves them.
 */
import { OptionsError, describe, readBoolean, readInt, readSection, readString, rejectUnknownKeys } from '../shared/option-reader.js'
import { MAX_DIMENSIONS, MAX_NAME_LENGTH, isValidDimensionName, isValidDimensionValue, isValidNamespace } from './metric-limits.js'

export interface CloudWatchOptions {
  readonly namespace: string
  /** Undefined: the SDK's default (AWS_REGION, profile config). */
  readonly region: string | undefined
  /** Another CloudWatch-compatible endpoint (LocalStack, moto); undefined for AWS. */
  readonly endpoint: string | undefined
  readonly flushIntervalMs: number
  /** Seconds: 60 (standard) or 1 (high resolution). Also the aggregation period. */
  readonly storageResolution: 1 | 60
  /** Distinct series (name, unit, dimensions) accepted per period; later new series are dropped as `metrics_cardinality`. */
  readonly maxSeries: number
  /** Added to every datum (explicit, derived and self-metrics); a record's own dimension of the same name wins. */
  readonly defaultDimensions: Readonly<Record<string, string>>
  /** Emit the pipeline's own Received/Written/Dropped/… metrics. */
  readonly selfMetrics: boolean
  /** Per-request timeout towards CloudWatch, so a dead endpoint cannot hold a flush for long. */
  readonly requestTimeoutMs: number
}

export const CLOUDWATCH_KEYS = ['namespace', 'region', 'endpoint', 'flushIntervalMs', 'storageResolution', 'maxSeries', 'defaultDimensions', 'selfMetrics', 'requestTimeoutMs'] as const

function readDefaultDimensions(section: Record<string, unknown>): Record<string, string> {
  const dims = readSection(section, 'defaultDimensions', 'cloudwatch.defaultDimensions') ?? {}
  const entries = Object.entries(dims)
  if (entries.length > MAX_DIMENSIONS - 1) {
    throw new OptionsError(`options.cloudwatch.defaultDimensions has ${entries.length} entries; CloudWatch allows ${MAX_DIMENSIONS} dimensions per datum, so keep at most ${MAX_DIMENSIONS - 1} defaults.`)
  }
  for (const [name, value] of entries) {
    if (!isValidDimensionName(name)) {
      throw new OptionsError(`options.cloudwatch.defaultDimensions has an invalid name ${describe(name)}: use 1-${MAX_NAME_LENGTH} ASCII characters, not starting with ':'.`)
    }
    if (typeof value !== 'string' || !isValidDimensionValue(value)) {
      throw new OptionsError(`options.cloudwatch.defaultDimensions.${name} must be a string of 1-${MAX_NAME_LENGTH} characters, got ${describe(value)}`)
    }
  }
  return Object.freeze({ ...dims }) as Record<string, string>
}

export function resolveCloudWatchOptions(root: Record<string, unknown>): CloudWatchOptions | undefined {
  const section = readSection(root, 'cloudwatch', 'cloudwatch')
  if (section === undefined) return undefined
  rejectUnknownKeys(section, CLOUDWATCH_KEYS, 'cloudwatch')
  const namespace = readString(section, 'namespace', 'cloudwatch')
  if (namespace === undefined || !isValidNamespace(namespace)) {
    throw new OptionsError(
      `options.cloudwatch.namespace must be 1-${MAX_NAME_LENGTH} ASCII characters not starting with "AWS/", such as 'MyApp/Logs', got ${describe(namespace)}`,
    )
  }
  const endpoint = readString(section, 'endpoint', 'cloudwatch')
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new OptionsError(`options.cloudwatch.endpoint must be an http(s) URL such as http://127.0.0.1:5000, got ${describe(endpoint)}`)
  }
  const storageResolution = readInt(section, 'storageResolution', 'cloudwatch', 60, { min: 1, max: 60, unit: 'seconds' })
  if (storageResolution !== 1 && storageResolution !== 60) {
    throw new OptionsError(`options.cloudwatch.storageResolution must be 60 (standard) or 1 (high resolution), got ${storageResolution}. Omit it to use the default 60.`)
  }
  return Object.freeze({
    namespace,
    region: readString(section, 'region', 'cloudwatch'),
    endpoint,
    flushIntervalMs: readInt(section, 'flushIntervalMs', 'cloudwatch', 5000, { min: 100, max: 3_600_000, unit: 'ms' }),
    storageResolution,
    maxSeries: readInt(section, 'maxSeries', 'cloudwatch', 5000, { min: 1, max: 100_000, unit: 'series per period' }),
    defaultDimensions: readDefaultDimensions(section),
    selfMetrics: readBoolean(section, 'selfMetrics', 'cloudwatch', true),
    requestTimeoutMs: readInt(section, 'requestTimeoutMs', 'cloudwatch', 10_000, { min: 100, max: 120_000, unit: 'ms' }),
  })
}
