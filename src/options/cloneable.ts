import { OptionsError } from '../../sinks/shared/option-reader.js'

/**
 * Options travel to the worker thread by structured clone, which refuses
 * functions and symbols with a bare `DataCloneError` from `new Worker` that
 * names no option. Checked on the app thread first, so the message names the
 * option path and the fix.
 */
export function assertCloneable(options: unknown, path = 'options'): void {
  try {
    structuredClone(options)
    return
  } catch {
    // Find which value: the clone error does not say.
  }
  const culprit = findUncloneable(options, path, new Set())
  const where = culprit ?? { path, kind: 'a value structured clone refuses' }
  throw new OptionsError(
    `${where.path} is ${where.kind}, which cannot be sent to pino-sluice's worker thread (options are copied with structured clone). Pass plain data (strings, numbers, arrays, objects) and build functions inside the sink's factory.`,
  )
}

function findUncloneable(value: unknown, path: string, seen: Set<object>): { path: string; kind: string } | undefined {
  if (typeof value === 'function') return { path, kind: 'a function' }
  if (typeof value === 'symbol') return { path, kind: 'a symbol' }
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined
  seen.add(value)
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value).map(([k, v]) => [`.${k}`, v])
  for (const [key, child] of entries) {
    const found = findUncloneable(child, path + key, seen)
    if (found) return found
  }
  try {
    structuredClone(value)
  } catch {
    return { path, kind: `${value.constructor?.name ?? 'an object'} (not cloneable)` }
  }
  return undefined
}
