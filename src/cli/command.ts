export interface Command {
  readonly name: string
  /** One line for `sluice --help`. */
  readonly summary: string
  /** Full help text for `sluice <name> --help`. */
  readonly usage: string
  /** Returns the exit code: 0 ok, 1 runtime error, 2 usage error. */
  run(argv: readonly string[]): Promise<number>
}
