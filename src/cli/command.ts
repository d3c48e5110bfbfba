import { parseArgs, type ParseArgsConfig } from 'node:util'

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
 * `parseArgs` for a command, or undefined once the problem and the command's
 * usage are printed to stderr (the caller then exits 2).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> | undefined {
  try {
    return parseArgs(config)
  } catch (error) {
    process.stderr.write(`sluice ${command}: ${error instanceof Error ? error.message : String(error)}\n\n${usage}`)
    return undefined
  }
}
