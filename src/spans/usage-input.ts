import { describe } from '../../sinks/shared/option-reader.js'
import { closestNames, didYouMean } from '../../sinks/shared/did-you-mean.js'

/** Thrown by `span.recordUsage()` in a tracer created with `strict: true` when a value cannot be stored exactly. */
export class UsageError extends TypeError {
  override readonly name = 'UsageError'
}

/** A token count as callers pass it: a safe integer, a bigint, or a decimal string (for counts beyond 2^53). */
export type TokenInput = number | bigint | string

/** What one model call used. `inputTokens` is the uncached input, as Anthropic's API reports it. */
export interface UsageInput {
  model: string
  inputTokens: TokenInput
  outputTokens: TokenInput
  cacheReadTokens?: TokenInput
  cacheCreationTokens?: TokenInput
  /** What the call cost in USD; when absent, the tracer's price table (if it knows the model) computes it. */
  costUsd?: number
}

/** A validated usage: exact counts as bigint. */
export interface Usage {
  model: string
  input: bigint
  output: bigint
  cacheRead: bigint
  cacheCreation: bigint
  costUsd: number | undefined
}

/**
 * One thing wrong with a `recordUsage` argument. `kind` names the problem
 * without the value (e.g. `inputTokens:not-integer`), so the tracer prints
 * each kind once however many calls repeat it with other values.
 */
export interface UsageProblem {
  readonly kind: string
  readonly message: string
}

/** What could be read from one call: the usage to record (undefined: nothing usable) and what was wrong. */
export interface UsageReading {
  readonly usage: Usage | undefined
  readonly problems: readonly UsageProblem[]
}

/** The columns are BIGINT: every count and every sum must fit in a signed 64-bit integer. */
export const BIGINT_MAX = 2n ** 63n - 1n
/** The model recorded when the call named none (or an invalid one), so its tokens still count in the totals. */
export const UNKNOWN_MODEL = 'unknown'
const DECIMAL = /^[0-9]+$/
const KEYS = ['model', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheCreationTokens', 'costUsd'] as const
const MAX_MODEL_LENGTH = 200

type Count = { ok: true; value: bigint } | { ok: false; problem: UsageProblem }

function bad(field: string, rule: string, message: string): Count {
  return { ok: false, problem: { kind: `${field}:${rule}`, message: `recordUsage: ${message}` } }
}

function tokenCount(value: unknown, field: string, required: boolean): Count {
  if (value === undefined) {
    return required ? bad(field, 'required', `${field} is required (a non-negative integer; pass 0 when the call used none)`) : { ok: true, value: 0n }
  }
  let count: bigint
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return bad(field, 'not-integer', `${field} must be a non-negative integer, got ${describe(value)}`)
    if (!Number.isSafeInteger(value)) {
      return bad(field, 'unsafe', `${field} is ${value}, beyond 2^53 where numbers lose digits; pass it as a bigint or a decimal string`)
    }
    return { ok: true, value: BigInt(value) }
  } else if (typeof value === 'bigint') {
    count = value
  } else if (typeof value === 'string' && DECIMAL.test(value)) {
    count = BigInt(value)
  } else {
    return bad(field, 'not-integer', `${field} must be a non-negative integer (number, bigint or decimal string), got ${describe(value)}`)
  }
  if (count < 0n || count > BIGINT_MAX) return bad(field, 'range', `${field} must be between 0 and 2^63 - 1 (the BIGINT column), got ${describe(value)}`)
  return { ok: true, value: count }
}

/**
 * Reads one `recordUsage` argument, keeping what is valid: an invalid or
 * missing count reads as 0, an invalid model as "unknown", an invalid cost as
 * absent (the price table may then price the call); unknown keys are ignored.
 * Every such problem is listed, so a strict tracer can throw the first one
 * and a lenient one can report them.
 */
export function readUsage(input: unknown): UsageReading {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    const message = `recordUsage expects an object such as { model, inputTokens, outputTokens }, got ${describe(input)}`
    return { usage: undefined, problems: [{ kind: 'not-object', message }] }
  }
  const raw = input as Record<string, unknown>
  const problems: UsageProblem[] = []
  // A field named in a "did you mean" is not also reported missing: one problem, one line.
  const suggested = new Set<string>()
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      for (const name of closestNames(key, KEYS)) suggested.add(name)
      problems.push({ kind: `unknown:${key}`, message: `recordUsage: unknown field "${key}".${didYouMean(key, KEYS)} Known fields: ${KEYS.join(', ')}.` })
    }
  }
  let model = raw.model
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) {
    problems.push({
      kind: 'model',
      message: `recordUsage: model must be a non-empty string of at most ${MAX_MODEL_LENGTH} characters, got ${describe(model)}`,
    })
    model = UNKNOWN_MODEL
  }
  let costUsd = raw.costUsd
  if (costUsd !== undefined && (typeof costUsd !== 'number' || !Number.isFinite(costUsd) || costUsd < 0)) {
    problems.push({
      kind: 'costUsd',
      message: `recordUsage: costUsd must be a finite number >= 0 (USD), got ${describe(costUsd)}. Omit it to price the call from the tracer's price table.`,
    })
    costUsd = undefined
  }
  const counts = {
    input: tokenCount(raw.inputTokens, 'inputTokens', true),
    output: tokenCount(raw.outputTokens, 'outputTokens', true),
    cacheRead: tokenCount(raw.cacheReadTokens, 'cacheReadTokens', false),
    cacheCreation: tokenCount(raw.cacheCreationTokens, 'cacheCreationTokens', false),
  }
  const value = (count: Count): bigint => {
    if (count.ok) return count.value
    const [field, rule] = count.problem.kind.split(':')
    if (!(rule === 'required' && suggested.has(field as string))) problems.push(count.problem)
    return 0n
  }
  const usage: Usage = {
    model: model as string,
    input: value(counts.input),
    output: value(counts.output),
    cacheRead: value(counts.cacheRead),
    cacheCreation: value(counts.cacheCreation),
    costUsd: costUsd as number | undefined,
  }
  return { usage, problems }
}
