/** Encoding of values for COPY ... FROM STDIN in PostgreSQL's text format. */
export const COPY_NULL = '\\N'

const NEEDS_ESCAPE = /[\\\n\r\t]/
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

export function copyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c] as string) : value
}

/** JSON text never holds raw newlines or tabs, only backslashes need doubling. */
export function copyJson(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json
}

export function copyOptionalText(value: unknown): string {
  return typeof value === 'string' ? copyText(value) : COPY_NULL
}

/** timestamptz accepts years 1..294276; we keep to the range Date can print. */
export function copyTime(ms: number): string {
  return new Date(ms).toISOString()
}
