// Owned by issue 6.
import type { Command } from '../command.js'

export const traceCommand: Command = {
  name: 'trace',
  summary: 'Print the span tree of one trace',
  usage: 'Usage: sluice trace\n\nNot available yet.\n',
  async run() {
    process.stderr.write('sluice trace: not available yet\n')
    return 1
  },
}
