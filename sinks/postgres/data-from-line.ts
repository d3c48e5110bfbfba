const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** The index just past the JSON string whose opening quote is at `start`. */
function stringEnd(line: string, start: number): number {
  let quote = line.indexOf('"', start + 1)
  for (;;) {
    let backslashes = 0
    while (line.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote + 1
    quote = line.indexOf('"', quote + 1)
  }
}

/**
 * Numbers jsonb may refuse as written (JSON.parse makes them Infinity or 0,
 * which the parsed value then says): an exponent of three digits or more
 * (jsonb's range ends near 1e131072, and 1e400 is Infinity to JSON.parse),
 * or a run of digits near jsonb's 16,383 after the decimal point, which a
 * negative exponent (two digits at most, by then) counts against too.
 */
export const MAX_EXPONENT_DIGITS = 2
export const MAX_DIGIT_RUN = 16_383 - 99

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** The number of exponent digits after the `e` at `at` (a sign skipped). */
function exponentDigits(line: string, at: number): number {
  let i = at + 1
  const sign = line.charCodeAt(i)
  if (sign === 0x2b || sign === 0x2d) i++
  let count = 0
  while (isDigit(line.charCodeAt(i + count))) count++
  return count
}

/**
 * The index of the `,` or `}` that ends the top-level value starting at
 * `start`, or -1 when the value holds a number jsonb would refuse as written.
 */
function valueEnd(line: string, start: number): number {
  let depth = 0
  let digits = 0
  for (let i = start; ; i++) {
    const c = line.charCodeAt(i)
    if (isDigit(c)) {
      if (++digits >= MAX_DIGIT_RUN) return -1
      continue
    }
    // Only after a digit: the e of true and false is not an exponent.
    if ((c === 0x65 || c === 0x45) && digits > 0 && exponentDigits(line, i) > MAX_EXPONENT_DIGITS) return -1
    digits = 0
    if (c === QUOTE) i = stringEnd(line, i) - 1
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return i
      depth--
    } else if (c === COMMA && depth === 0) return i
  }
}

/**
 * Finds, by position, which of a few names a key spells, without making a
 * string of every key (most are not among the names): a table of the names'
 * first characters rules out most keys with one lookup.
 */
class NameMatcher {
  private readonly firstChars = new Uint8Array(128)
  private readonly shortest: number

  constructor(private readonly names: readonly string[]) {
    for (const name of names) this.firstChars[name.charCodeAt(0) & 127] = 1
    this.shortest = Math.min(...names.map((name) => name.length))
  }

  /** The name the key between `start` and `end` (its quotes) spells, or undefined. */
  at(line: string, start: number, end: number): string | undefined {
    const length = end - start - 2
    const first = line.charCodeAt(start + 1)
    if (first !== BACKSLASH) {
      if (first >= 128 || this.firstChars[first] === 0) return undefined
      for (const name of this.names) if (name.length === length && line.startsWith(name, start + 1)) return name
    }
    // A name spelled with escapes: each one (\uXXXX; names hold no characters with short escapes) adds 5.
    if (length < this.shortest + 5) return undefined
    for (let i = start + 1; i < end - 1; i++) {
      if (line.charCodeAt(i) !== BACKSLASH) continue
      const key = JSON.parse(line.slice(start, end)) as string
      return this.names.includes(key) ? key : undefined
    }
    return undefined
  }
}

/**
 * Makes a function that returns the JSON text of the object `line` holds,
 * without the members whose key is one of `names` and that `dropped`
 * accepts, cut from the line itself instead of re-serializing the parsed
 * value (measured 2.5× faster). `line` must be a JSON object that JSON.parse
 * accepted: this only finds where members start and end.
 *
 * Undefined when the line holds a number jsonb would refuse as written (the
 * caller then serializes the parsed value). Otherwise the text differs from
 * `JSON.stringify` of the parsed value only where jsonb
 * does not look: whitespace, key order, duplicate keys (both are kept; jsonb,
 * like JSON.parse, keeps the last), escapes, and number spelling (integers
 * beyond 2^53 keep their digits).
 */
export function dataCutter(names: readonly string[]): (line: string, dropped: (name: string) => boolean) => string | undefined {
  const matcher = new NameMatcher(names)
  return (line, dropped) => {
    let out = '{'
    let runStart = -1
    let runEnd = -1
    let i = line.indexOf('{') + 1
    for (;;) {
      const keyStart = line.indexOf('"', i)
      if (keyStart < 0) break
      const keyEnd = stringEnd(line, keyStart)
      let colon = keyEnd
      while (line.charCodeAt(colon) !== COLON) colon++
      const end = valueEnd(line, colon + 1)
      if (end < 0) return undefined
      const name = matcher.at(line, keyStart, keyEnd)
      if (name !== undefined && dropped(name)) {
        if (runStart >= 0) out += (out.length > 1 ? ',' : '') + line.slice(runStart, runEnd)
        runStart = -1
      } else {
        if (runStart < 0) runStart = keyStart
        runEnd = end
      }
      if (line.charCodeAt(end) === CLOSE_BRACE) break
      i = end + 1
    }
    if (runStart >= 0) out += (out.length > 1 ? ',' : '') + line.slice(runStart, runEnd)
    return `${out}}`
  }
}
