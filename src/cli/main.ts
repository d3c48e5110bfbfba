#!/usr/bin/env node
/**
 * `sluice` command line. Each command lives in its own file under commands/
 * and exports `{ name, summary, usage, run(argv) }`; run returns the exit code.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { didYouMean } from '../../sinks/shared/did-you-mean.js'
import type { Command } from './command.js'
import { costsCommand } from './commands/costs.js'
import { terminalSafe } from './terminal-safe.js'
import { materializeCommand } from './commands/materialize.js'
import { pruneCommand } from './commands/prune.js'
import { tailCommand } from './commands/tail.js'
import { traceCommand } from './commands/trace.js'

export const COMMANDS: readonly Command[] = [tailCommand, traceCommand, costsCommand, materializeCommand, pruneCommand]

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return (
    `Usage: sluice <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    `Run "sluice <command> --help" (or "sluice help <command>") for the options of one command;\n` +
    `"sluice --version" prints the version.\n\nExit codes: 0 ok, 1 runtime error, 2 usage error.\n`
  )
}

/** The package's version: built, this file is dist/src/cli/main.js; run from source, src/cli/main.ts. */
export function version(): string {
  for (const relative of ['../../../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (manifest.name === 'pino-sluice' && manifest.version) return manifest.version
    } catch {
      // not at this level
    }
  }
  return 'unknown'
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    // No command is a usage error: the help goes to stderr so scripts do not parse it as output.
    process.stderr.write(usage())
    return 2
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help'])
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    const hint = didYouMean(name, COMMANDS.map((c) => c.name))
    process.stderr.write(`sluice: unknown command "${terminalSafe(name)}".${terminalSafe(hint)}\n\n${usage()}`)
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
      process.stderr.write(`sluice: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`)
      process.exitCode = 1
    },
  )
}
