/**
 * Postgres refuses NUL in text and jsonb, and lone UTF-16 surrogates in jsonb.
 * Such characters can only arrive as JSON escapes (pino escapes control
 * characters, and a raw lone surrogate becomes U+FFFD when the line is
 * encoded), so one regex test on the raw line decides whether the parsed
 * value needs a walk. The walk keeps the record and makes it storable.
 */
const SUSPECT_ESCAPE = /\\u(0000|d[89a-f])/i

export function mayNeedSanitizing(line: string): boolean {
  return SUSPECT_ESCAPE.test(line)
}

function cleanString(text: string): string {
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed()
}

/** Returns a copy with NUL removed and lone surrogates replaced by U+FFFD, in keys and values. */
export function sanitizeValue(value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value)
  if (Array.isArray(value)) return value.map(sanitizeValue)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(out, cleanString(key), { value: sanitizeValue(inner), enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return value
}
