#!/usr/bin/env node
/**
 * `sluice` command line. Each command lives in its own file under commands/
 * and exports `{ name, summary, usage, run(argv) }`; run returns the exit code.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Command } from './command.js'
import { materializeCommand } from './commands/materialize.js'
import { pruneCommand } from './commands/prune.js'
import { tailCommand } from './commands/tail.js'
import { traceCommand } from './commands/trace.js'

export const COMMANDS: readonly Command[] = [tailCommand, traceCommand, materializeCommand, pruneCommand]

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return `Usage: sluice <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "sluice <command> --help" for the options of one command.\n\nExit codes: 0 ok, 1 runtime error, 2 usage error.\n`
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    process.stderr.write(`sluice: unknown command "${name}"\n\n${usage()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage)
    return 0
  }
  return command.run(rest)
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`sluice: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 1
    },
  )
}
