/**
 * Text that came from data (a logged message, a span name, a hostname in a
 * stats file, a file name) is shown to an operator's terminal. A client often
 * chooses that text, so it must not be able to drive the terminal: retitle
 * it (OSC 0), clear it (CSI 2J), plant a hyperlink (OSC 8), or reorder what
 * is shown (bidi overrides, "Trojan Source"). Every character a terminal may
 * act on is shown escaped, JSON style (`\u001b`), so what was logged is still
 * readable. Backslashes are left alone: the printed text is for reading;
 * `--json` is the exact form.
 *
 * Escaped: C0 controls (newline and tab included: a message must not draw a
 * line that looks like another entry), DEL, C1 controls (U+0080–U+009F, of
 * which U+009B is a one-byte CSI), the Arabic letter mark, LRM/RLM, the line
 * and paragraph separators, and the bidi embeddings, overrides and isolates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** The characters JSON.stringify leaves raw: JSON escapes every C0 control itself. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escape(char: string): string {
  return SHORT[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** `text` with every character a terminal could act on shown as `\n`, `\t` or `\uXXXX`. */
export function terminalSafe(text: unknown): string {
  return String(text).replace(UNSAFE, escape)
}

/**
 * A JSON text safe for a terminal and still exact: the characters JSON.stringify
 * leaves raw can only stand inside strings, where `\uXXXX` parses back to the
 * very same character.
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escape)
}
