const LABELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

/**
 * Reads the level of a raw pino line without parsing it, so an error can
 * trigger a flush before the batch is parsed. pino writes `{"level":N` first;
 * other layouts fall back to a bounded search. Returns 0 when unknown.
 */
export function peekLevel(line: string): number {
  let at = line.startsWith('{"level":') ? 9 : -1
  if (at < 0) {
    const found = line.indexOf('"level":')
    if (found < 0 || found > 256) return 0
    at = found + 8
  }
  const first = line.charCodeAt(at)
  if (first === 34 /* " */) {
    const close = line.indexOf('"', at + 1)
    return LABELS[line.slice(at + 1, close)] ?? 0
  }
  let level = 0
  for (let i = at; i < at + 4; i++) {
    const digit = line.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) break
    level = level * 10 + digit
  }
  return level
}

export function levelFromValue(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string') return LABELS[value] ?? 0
  return 0
}
