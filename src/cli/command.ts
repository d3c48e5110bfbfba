import { parseArgs, type ParseArgsConfig } from 'node:util'
import { explainParseError } from './parse-error.js'
import { terminalSafe } from './terminal-safe.js'

export interface Command {
  readonly name: string
  /** One line for `sluice --help`. */
  readonly summary: string
  /** Full help text for `sluice <name> --help`. */
  readonly usage: string
  /** Returns the exit code: 0 ok, 1 runtime error, 2 usage error. */
  run(argv: readonly string[]): Promise<number>
}

/**
 * `parseArgs` for a command, or undefined once the problem (an unknown flag
 * with a "did you mean", a flag missing its value) and the command's usage
 * are printed to stderr (the caller then exits 2).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> | undefined {
  try {
    return parseArgs(config)
  } catch (error) {
    process.stderr.write(`sluice ${command}: ${terminalSafe(explainParseError(error, Object.keys(config.options ?? {})))}\n\n${usage}`)
    return undefined
  }
}
