// Owned by issue 7.
import type { Command } from '../command.js'

export const tailCommand: Command = {
  name: 'tail',
  summary: 'Show the worker counters live (file or HTTP)',
  usage: 'Usage: sluice tail\n\nNot available yet.\n',
  async run() {
    process.stderr.write('sluice tail: not available yet\n')
    return 1
  },
}
