import { didYouMean } from '../../sinks/shared/did-you-mean.js'

/** What a flag's value is, for "needs a value" messages; flags not listed get a generic sentence. */
const VALUE_HINTS: Readonly<Record<string, string>> = {
  url: 'a postgres:// connection string; leave --url out to use DATABASE_URL',
  db: 'a postgres:// connection string (--db is the old name of --url); leave it out to use DATABASE_URL',
  table: 'the logs table name, e.g. --table app_logs',
  schema: 'a schema name, e.g. --schema public',
}

/**
 * Turns node's parseArgs errors into one sentence a user can act on: an
 * unknown flag gets a "did you mean", a flag without its value says what the
 * value is (instead of node's "argument is ambiguous" text).
 */
export function explainParseError(error: unknown, flags: readonly string[], hints: Readonly<Record<string, string>> = {}): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-[^']*)'/.exec(message)?.[1] ?? message
    const name = flag.replace(/^-+/, '').split('=')[0] ?? ''
    const hint = didYouMean(name, flags, (k) => `--${k}`)
    return `unknown option ${flag}.${hint}${hint ? '' : ` Options: ${flags.map((f) => `--${f}`).join(', ')}.`}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'--([a-z-]+)/.exec(message)?.[1]
    if (flag !== undefined && /does not take an argument/.test(message)) return `--${flag} is a switch and takes no value`
    if (flag !== undefined) {
      const what = hints[flag] ?? VALUE_HINTS[flag] ?? 'a value'
      return `--${flag} needs a value: ${what}`
    }
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(message)?.[1] ?? ''
    return `unexpected argument "${arg}"; this command takes options only`
  }
  return message
}
